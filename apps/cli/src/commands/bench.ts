// The cpu backend: FLOPs are counted on the main thread, which has no backend of its own when the benchmark runs in workers.
import '@tensorflow/tfjs-backend-cpu';
import { PEER_ENVIRONMENT, benchRounds, findPeers, measureMachinePeak } from '@tfjs-diffusion/benchmarks/node';
import { BACKEND_NAMES, DiffusionError } from '@tfjs-diffusion/core';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { integerOption, seedOption, stringOption } from '../options.js';

/** Backends benchmarked in worker threads (one replica per core); the others run on the main thread. */
const WORKER_BACKENDS = ['wasm', 'cpu'];

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
    const workers = integerOption(values, 'workers', 2, 0, 64);
    const batch = integerOption(values, 'batch', 32, 1, 4096);
    const rounds = integerOption(values, 'rounds', 1, 1, 100);
    const seed = seedOption(values);
    const threads = Math.max(1, workers);
    const log = (line: string): void => io.stderr(`${line}\n`);
    const peers = values['skip-peer']
      ? {}
      : await findPeers({
          peers: stringOption(values, 'peers'),
          peerScript: stringOption(values, 'peer-script'),
          ortDir: stringOption(values, 'ort-dir'),
          threads: integerOption(values, 'peer-threads', threads, 1, 256),
          batch,
          log,
        }).catch((error: unknown) => {
          // A peer named by an option that cannot run is a mistake in the call.
          throw error instanceof DiffusionError && error.code === 'invalid-argument' ? new UsageError(error.message) : error;
        });
    const peak = await measureMachinePeak(threads);
    if (peak === undefined) log('bench: no AVX-512 peak (the native addon is not built or the CPU lacks AVX-512F); no share of peak');
    for (const backend of requested === undefined ? ['wasm', 'cpu'] : [requested]) {
      const slow = backend === 'cpu';
      const useWorkers = WORKER_BACKENDS.includes(backend) ? workers : 0;
      if (useWorkers === 0) await activateBackend({ backend }, io);
      const report = await benchRounds({
        backend,
        workers: useWorkers,
        batch,
        iterations: integerOption(values, 'iterations', slow ? 1 : 3),
        warmup: integerOption(values, 'warmup', slow ? 0 : 1, 0),
        rounds,
        profile: values['profile'] === true,
        seed,
        peers,
        ...(peak ? { peak } : {}),
        log,
      });
      io.stdout(`${JSON.stringify(report)}\n`);
    }
  },
};
