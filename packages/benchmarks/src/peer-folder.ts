import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Environment variables naming the peers: the folder of peer scripts, the torch script itself, the onnxruntime-node folder. */
export const PEER_ENVIRONMENT = {
  folder: 'TFJS_DIFFUSION_PEERS',
  torchScript: 'TFJS_DIFFUSION_TORCH_PEER',
  ortFolder: 'TFJS_DIFFUSION_ORT_DIR',
} as const;

/** The repository root: the nearest folder above `from` holding pnpm-workspace.yaml, else the current directory. */
export function repositoryRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let folder = resolve(from);
  for (;;) {
    if (existsSync(join(folder, 'pnpm-workspace.yaml'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) return process.cwd();
    folder = parent;
  }
}

/** Where the peer scripts (torch_unet.py, ort_peer.mjs) are: the option, else $TFJS_DIFFUSION_PEERS, else ../shared/peers beside the repository. */
export function peerFolder(explicit: string | undefined, environment: NodeJS.ProcessEnv = process.env): { folder: string; from: string } {
  if (explicit !== undefined) return { folder: resolve(explicit), from: '--peers' };
  const fromEnvironment = environment[PEER_ENVIRONMENT.folder];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return { folder: resolve(fromEnvironment), from: `$${PEER_ENVIRONMENT.folder}` };
  return { folder: resolve(repositoryRoot(), '..', 'shared', 'peers'), from: 'the default ../shared/peers beside the repository' };
}

/** The torch peer script: --peer-script, else $TFJS_DIFFUSION_TORCH_PEER, else torch_unet.py in the peer folder. */
export function torchPeerScript(
  explicit: string | undefined,
  folder: string,
  environment: NodeJS.ProcessEnv = process.env,
): { script: string; from: string } {
  if (explicit !== undefined) return { script: resolve(explicit), from: '--peer-script' };
  const fromEnvironment = environment[PEER_ENVIRONMENT.torchScript];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return { script: resolve(fromEnvironment), from: `$${PEER_ENVIRONMENT.torchScript}` };
  return { script: join(folder, 'torch_unet.py'), from: 'the peer folder' };
}

/** The onnxruntime-node folder (its node_modules holds onnxruntime-node, its model/unet.onnx the export): --ort-dir, else $TFJS_DIFFUSION_ORT_DIR. */
export function ortFolder(explicit: string | undefined, environment: NodeJS.ProcessEnv = process.env): { folder: string; from: string } | undefined {
  if (explicit !== undefined) return { folder: resolve(explicit), from: '--ort-dir' };
  const fromEnvironment = environment[PEER_ENVIRONMENT.ortFolder];
  if (fromEnvironment !== undefined && fromEnvironment !== '') return { folder: resolve(fromEnvironment), from: `$${PEER_ENVIRONMENT.ortFolder}` };
  return undefined;
}
