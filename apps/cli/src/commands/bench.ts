import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { BACKEND_NAMES } from '@tfjs-diffusion/core';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { torchPeerForwardFlops } from '../bench/flop-count.js';
import { measureMachinePeak } from '../bench/machine-peak.js';
import { ortPeerMissing, runOrtPeer, type OrtPeerFigures } from '../bench/ort-peer.js';
import { PEER_ENVIRONMENT, ortFolder, peerFolder, torchPeerScript } from '../bench/peer-folder.js';
import { formatProfile } from '../bench/profile-table.js';
import { summariseRounds, type RoundFigures } from '../bench/round-summary.js';
import { runBench, type BenchResult } from '../bench/run-bench.js';
import { runTorchPeer, torchAvailable, type PeerFigures } from '../bench/torch-peer.js';
import { UsageError } from '../cli-error.js';
import type { Command, CommandIo, OptionValues } from '../command.js';
import { integerOption, seedOption, stringOption } from '../options.js';

/** Backends benchmarked in worker threads (one replica per core); the others run on the main thread. */
const WORKER_BACKENDS = ['wasm', 'cpu'];

/** A peer that can run, as a function giving one measurement. */
interface Peers {
  readonly torch?: () => Promise<PeerFigures>;
  readonly ort?: () => Promise<OrtPeerFigures>;
}

/** Finds the peers (saying on stderr which are absent and why) without running them. */
async function findPeers(values: OptionValues, batch: number, threads: number, io: CommandIo): Promise<Peers> {
  if (values['skip-peer']) return {};
  const peers = peerFolder(stringOption(values, 'peers'));
  const found: { torch?: () => Promise<PeerFigures>; ort?: () => Promise<OrtPeerFigures> } = {};
  const torch = torchPeerScript(stringOption(values, 'peer-script'), peers.folder);
  if (!existsSync(torch.script)) {
    if (torch.from === '--peer-script') throw new UsageError(`--peer-script ${torch.script} does not exist`);
    io.stderr(
      `peer: PyTorch peer absent: ${torch.script} (from ${torch.from === 'the peer folder' ? peers.from : torch.from}) does not exist; ` +
        `give the folder with --peers DIR or $${PEER_ENVIRONMENT.folder}, or the script with --peer-script FILE\n`,
    );
  } else if (!(await torchAvailable())) {
    io.stderr('peer: PyTorch peer absent: /usr/bin/python3 cannot import torch (Debian: apt-get install -y python3-torch)\n');
  } else {
    io.stderr(`peer: PyTorch: ${torch.script} (${threads} threads, batch ${batch})\n`);
    found.torch = () => runTorchPeer(torch.script, threads, batch);
  }
  const ort = ortFolder(stringOption(values, 'ort-dir'));
  if (ort === undefined) {
    io.stderr(
      `peer: onnxruntime-node peer not asked for (--ort-dir DIR or $${PEER_ENVIRONMENT.ortFolder}; set up as ${peers.folder}/README-ort.md says)\n`,
    );
  } else {
    const missing = ortPeerMissing(peers.folder, ort.folder);
    if (missing !== undefined) {
      if (ort.from === '--ort-dir') throw new UsageError(`--ort-dir: ${missing}`);
      io.stderr(`peer: onnxruntime-node peer absent: ${missing}\n`);
    } else {
      io.stderr(`peer: onnxruntime-node: ${ort.folder} (${threads} threads, batch ${batch})\n`);
      found.ort = () => runOrtPeer(peers.folder, ort.folder, threads, batch);
    }
  }
  return found;
}

async function tryPeer<Figures>(name: string, run: (() => Promise<Figures>) | undefined, io: CommandIo): Promise<Figures | undefined> {
  if (run === undefined) return undefined;
  try {
    return await run();
  } catch (error) {
    io.stderr(`peer: ${name}: ${(error as Error).message}; no figure this round\n`);
    return undefined;
  }
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time U-Net training and evaluation (the PyTorch peer configuration) per backend, against PyTorch and onnxruntime-node',
  usage: [
    'usage: tfjs-diffusion bench [options]',
    '',
    'Times the reference U-Net of torch_unet.py (32x32x1, 32 channels, multipliers 1,2,2, 1,142,337',
    'parameters): training images/s (forward + backward + Adam) and evaluations/s (no grad), against',
    'every peer it finds, in interleaved rounds (ours, PyTorch, onnxruntime-node, ours, ...), with',
    "achieved GFLOP/s, the share of the machine's measured AVX-512 peak and the load average.",
    'wasm and cpu run data-parallel in worker threads (one core each); prints one JSON line per backend.',
    '',
    `  --backend NAME        ${BACKEND_NAMES.join(' | ')} (default: wasm, then cpu)`,
    '  --workers N           worker threads for wasm/cpu (default 2; 0: the main thread)',
    '  --iterations N        timed iterations per round (default 3; cpu 1)',
    '  --warmup N            untimed iterations first (default 1; cpu 0)',
    '  --rounds N            interleaved rounds of ours and every peer; figures are medians (default 1)',
    '  --batch N             batch size (default 32, as the peer)',
    '  --profile             add per-kernel times (tf.profile, summed over workers) as "profile" and print tables on stderr',
    `  --peers DIR           the folder of the peer scripts (default: $${PEER_ENVIRONMENT.folder}, else ../shared/peers beside the repository)`,
    `  --peer-script FILE    the PyTorch peer script (default: $${PEER_ENVIRONMENT.torchScript}, else DIR/torch_unet.py)`,
    `  --ort-dir DIR         onnxruntime-node installed in DIR/node_modules, the model in DIR/model/unet.onnx`,
    `                        (default: $${PEER_ENVIRONMENT.ortFolder}; see the peer folder's README-ort.md)`,
    '  --peer-threads N      peer threads (default: the workers, at least 1)',
    '  --skip-peer           run no peer',
    '  --seed S              (default 0)',
    '  --json                one JSON object per backend per line (the only output format)',
  ].join('\n'),
  options: {
    workers: { type: 'string' },
    iterations: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    batch: { type: 'string' },
    profile: { type: 'boolean' },
    peers: { type: 'string' },
    'peer-script': { type: 'string' },
    'ort-dir': { type: 'string' },
    'peer-threads': { type: 'string' },
    'skip-peer': { type: 'boolean' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const requested = stringOption(values, 'backend');
    if (requested !== undefined && !(BACKEND_NAMES as readonly string[]).includes(requested)) {
      throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got '${requested}'`);
    }
    const backends = requested === undefined ? ['wasm', 'cpu'] : [requested];
    const workers = integerOption(values, 'workers', 2, 0, 64);
    const batch = integerOption(values, 'batch', 32, 1, 4096);
    const rounds = integerOption(values, 'rounds', 1, 1, 100);
    const seed = seedOption(values);
    const profile = values['profile'] === true;
    const threads = Math.max(1, workers);
    const peerThreads = integerOption(values, 'peer-threads', threads, 1, 256);
    const peers = await findPeers(values, batch, peerThreads, io);
    const peak = await measureMachinePeak(threads);
    if (peak === undefined) io.stderr('bench: no AVX-512 peak (the native addon is not built or the CPU lacks AVX-512F); no share of peak\n');
    for (const backend of backends) {
      const slow = backend === 'cpu';
      const useWorkers = WORKER_BACKENDS.includes(backend) ? workers : 0;
      if (useWorkers === 0) await activateBackend({ backend }, io);
      const forwardFlops = await torchPeerForwardFlops();
      const perRound: RoundFigures[] = [];
      let last: BenchResult | undefined;
      for (let round = 0; round < rounds; round += 1) {
        io.stderr(`bench: round ${round + 1}/${rounds}: ${backend}, ${useWorkers === 0 ? 'main thread' : `${useWorkers} workers`}, batch ${batch}\n`);
        const load = loadavg()[0] as number;
        last = await runBench({
          backend,
          workers: useWorkers,
          batch,
          iterations: integerOption(values, 'iterations', slow ? 1 : 3),
          warmup: integerOption(values, 'warmup', slow ? 0 : 1, 0),
          profile: profile && round === rounds - 1,
          seed,
        });
        const torch = await tryPeer('PyTorch', peers.torch, io);
        const ort = await tryPeer('onnxruntime-node', peers.ort, io);
        const figures: RoundFigures = {
          load1: Math.round(load * 100) / 100,
          ours: { train: last.trainImagesPerSec, eval: last.evalImagesPerSec },
          ...(torch ? { pytorch: { train: torch.trainImagesPerSec, eval: torch.evalImagesPerSec, version: torch.torch } } : {}),
          ...(ort ? { onnxruntime: { eval: ort.evalImagesPerSec, version: ort.version } } : {}),
        };
        io.stderr(`bench: round ${round + 1}: ${JSON.stringify(figures)}\n`);
        perRound.push(figures);
      }
      if (last === undefined) continue;
      if (last.profile) {
        io.stderr(
          formatProfile(`${last.backend} training step, forward + backward (kernel ms summed over ${last.threads} replicas)`, last.profile.train),
        );
        io.stderr(formatProfile(`${last.backend} evaluation (kernel ms summed over ${last.threads} replicas)`, last.profile.eval));
      }
      const summary = summariseRounds(perRound, forwardFlops, peak?.gflops);
      const { trainImagesPerSec: _train, evalImagesPerSec: _eval, ...rest } = last;
      io.stdout(`${JSON.stringify({ ...rest, ...summary, ...(peak ? { peak } : {}), rounds: perRound })}\n`);
    }
  },
};
