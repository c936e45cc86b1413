import { existsSync } from 'node:fs';
import { DiffusionError } from '@tfjs-diffusion/core';
import { ortPeerMissing, runOrtPeer, type OrtPeerFigures } from './ort-peer.js';
import { PEER_ENVIRONMENT, ortFolder, peerFolder, torchPeerScript } from './peer-folder.js';
import { runTorchPeer, torchAvailable, type PeerFigures } from './torch-peer.js';

/** The peers that can run, each as a function giving one measurement. */
export interface Peers {
  readonly torch?: () => Promise<PeerFigures>;
  readonly ort?: () => Promise<OrtPeerFigures>;
}

export interface FindPeersOptions {
  /** The folder of the peer scripts (the bench command's --peers). */
  readonly peers?: string;
  /** The PyTorch peer script itself (--peer-script). */
  readonly peerScript?: string;
  /** The onnxruntime-node folder (--ort-dir). */
  readonly ortDir?: string;
  readonly threads: number;
  readonly batch: number;
  readonly environment?: NodeJS.ProcessEnv;
  /** Where the lines saying which peer runs, or why it is absent, go. */
  readonly log: (line: string) => void;
}

/**
 * Finds the PyTorch and onnxruntime-node peers without running them, logging each one found and the
 * reason for each one absent; a peer named explicitly (peerScript, ortDir) that cannot run is a
 * DiffusionError('invalid-argument') instead.
 */
export async function findPeers(options: FindPeersOptions): Promise<Peers> {
  const { threads, batch, log } = options;
  const environment = options.environment ?? process.env;
  const peers = peerFolder(options.peers, environment);
  const found: { torch?: () => Promise<PeerFigures>; ort?: () => Promise<OrtPeerFigures> } = {};
  const torch = torchPeerScript(options.peerScript, peers.folder, environment);
  if (!existsSync(torch.script)) {
    if (torch.from === '--peer-script') throw new DiffusionError('invalid-argument', `--peer-script ${torch.script} does not exist`);
    log(
      `peer: PyTorch peer absent: ${torch.script} (from ${torch.from === 'the peer folder' ? peers.from : torch.from}) does not exist; ` +
        `give the folder with --peers DIR or $${PEER_ENVIRONMENT.folder}, or the script with --peer-script FILE`,
    );
  } else if (!(await torchAvailable())) {
    log('peer: PyTorch peer absent: /usr/bin/python3 cannot import torch (Debian: apt-get install -y python3-torch)');
  } else {
    log(`peer: PyTorch: ${torch.script} (${threads} threads, batch ${batch})`);
    found.torch = () => runTorchPeer(torch.script, threads, batch);
  }
  const ort = ortFolder(options.ortDir, environment);
  if (ort === undefined) {
    log(`peer: onnxruntime-node peer not asked for (--ort-dir DIR or $${PEER_ENVIRONMENT.ortFolder}; set up as ${peers.folder}/README-ort.md says)`);
    return found;
  }
  const missing = ortPeerMissing(peers.folder, ort.folder);
  if (missing !== undefined) {
    if (ort.from === '--ort-dir') throw new DiffusionError('invalid-argument', `--ort-dir: ${missing}`);
    log(`peer: onnxruntime-node peer absent: ${missing}`);
  } else {
    log(`peer: onnxruntime-node: ${ort.folder} (${threads} threads, batch ${batch})`);
    found.ort = () => runOrtPeer(peers.folder, ort.folder, threads, batch);
  }
  return found;
}
