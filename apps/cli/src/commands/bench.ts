import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND_NAMES } from '@tfjs-diffusion/core';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { formatProfile } from '../bench/profile-table.js';
import { runBench, type BenchResult } from '../bench/run-bench.js';
import { runTorchPeer, torchAvailable, type PeerFigures } from '../bench/torch-peer.js';
import { UsageError } from '../cli-error.js';
import type { Command, CommandIo } from '../command.js';
import { integerOption, seedOption, stringOption } from '../options.js';

/** Backends benchmarked in worker threads (one replica per core); the others run on the main thread. */
const WORKER_BACKENDS = ['wasm', 'cpu'];

/** Where the PyTorch peer script is looked for, in order. */
function peerScriptCandidates(explicit: string | undefined): string[] {
  if (explicit !== undefined) return [resolve(explicit)];
  const fromEnvironment = process.env['TFJS_DIFFUSION_TORCH_PEER'];
  return [
    ...(fromEnvironment ? [resolve(fromEnvironment)] : []),
    resolve('shared/peers/torch_unet.py'),
    resolve('../shared/peers/torch_unet.py'),
    '/work/shared/peers/torch_unet.py',
  ];
}

async function measurePeer(values: Record<string, string | boolean | undefined>, batch: number, threads: number, io: CommandIo): Promise<PeerFigures | undefined> {
  if (values['skip-peer']) return undefined;
  const explicit = stringOption(values, 'peer-script');
  const script = peerScriptCandidates(explicit).find((candidate) => existsSync(candidate));
  if (script === undefined) {
    if (explicit !== undefined) throw new UsageError(`--peer-script ${explicit} does not exist`);
    io.stderr('peer: torch_unet.py not found (set --peer-script or TFJS_DIFFUSION_TORCH_PEER); no peer figures\n');
    return undefined;
  }
  if (!(await torchAvailable())) {
    io.stderr("peer: /usr/bin/python3 cannot import torch (Debian: apt-get install python3-torch); no peer figures\n");
    return undefined;
  }
  io.stderr(`peer: running ${script} (${threads} threads, batch ${batch})\n`);
  try {
    return await runTorchPeer(script, threads, batch);
  } catch (error) {
    io.stderr(`peer: ${(error as Error).message}; no peer figures\n`);
    return undefined;
  }
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time U-Net training and evaluation (the PyTorch peer configuration) per backend, against the peer',
  usage: [
    'usage: tfjs-diffusion bench [options]',
    '',
    'Times the reference U-Net of shared/peers/torch_unet.py (32x32x1, 32 channels, multipliers 1,2,2,',
    '1,142,337 parameters): training images/s (forward + backward + Adam) and evaluations/s (no grad).',
    'wasm and cpu run data-parallel in worker threads (one core each); prints one JSON line per backend.',
    '',
    `  --backend NAME        ${BACKEND_NAMES.join(' | ')} (default: wasm, then cpu)`,
    '  --workers N           worker threads for wasm/cpu (default 2; 0: the main thread)',
    '  --iterations N        timed iterations (default 3; cpu 1)',
    '  --warmup N            untimed iterations first (default 1; cpu 0)',
    '  --batch N             batch size (default 32, as the peer)',
    '  --profile             add per-kernel times (tf.profile, summed over workers) as "profile" and print tables on stderr',
    '  --peer-script FILE    the PyTorch peer (default: $TFJS_DIFFUSION_TORCH_PEER or shared/peers/torch_unet.py)',
    '  --peer-threads N      torch threads (default: the workers, at least 1)',
    '  --skip-peer           do not run the peer even when python3-torch is installed',
    '  --seed S              (default 0)',
    '  --json                one JSON object per backend per line (the only output format)',
  ].join('\n'),
  options: {
    workers: { type: 'string' },
    iterations: { type: 'string' },
    warmup: { type: 'string' },
    batch: { type: 'string' },
    profile: { type: 'boolean' },
    'peer-script': { type: 'string' },
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
    const seed = seedOption(values);
    const profile = values['profile'] === true;
    const peerThreads = integerOption(values, 'peer-threads', Math.max(1, workers), 1, 256);
    const peer = await measurePeer(values, batch, peerThreads, io);
    if (peer) io.stderr(`peer: ${peer.trainImagesPerSec} train img/s, ${peer.evalImagesPerSec} eval img/s (torch ${peer.torch})\n`);
    for (const backend of backends) {
      const slow = backend === 'cpu';
      const useWorkers = WORKER_BACKENDS.includes(backend) ? workers : 0;
      if (useWorkers === 0) await activateBackend({ backend }, io);
      io.stderr(`bench: ${backend}, ${useWorkers === 0 ? 'main thread' : `${useWorkers} workers`}, batch ${batch}\n`);
      const result: BenchResult = await runBench({
        backend,
        workers: useWorkers,
        batch,
        iterations: integerOption(values, 'iterations', slow ? 1 : 3),
        warmup: integerOption(values, 'warmup', slow ? 0 : 1, 0),
        profile,
        seed,
      });
      if (result.profile) {
        io.stderr(formatProfile(`${result.backend} training step, forward + backward (kernel ms summed over ${result.threads} replicas)`, result.profile.train));
        io.stderr(formatProfile(`${result.backend} evaluation (kernel ms summed over ${result.threads} replicas)`, result.profile.eval));
      }
      const line = {
        ...result,
        ...(peer
          ? {
              peer: { trainImagesPerSec: peer.trainImagesPerSec, evalImagesPerSec: peer.evalImagesPerSec, threads: peer.threads, torch: peer.torch },
              ratio: {
                train: Math.round((1000 * result.trainImagesPerSec) / peer.trainImagesPerSec) / 1000,
                eval: Math.round((1000 * result.evalImagesPerSec) / peer.evalImagesPerSec) / 1000,
              },
            }
          : {}),
      };
      io.stdout(`${JSON.stringify(line)}\n`);
    }
  },
};
