// The cpu backend: FLOPs are counted on the main thread, which has no backend of its own when the benchmark runs in workers.
import '@tensorflow/tfjs-backend-cpu';
import {
  GUIDED_DIFFUSION_ENVIRONMENT,
  LARGE_IMAGE_ARCHITECTURES,
  LARGE_IMAGES_BACKENDS,
  PEER_DEVICES,
  PEER_ENVIRONMENT,
  benchLargeImages,
  benchRounds,
  findPeers,
  measureMachinePeak,
  parseBatchSizes,
} from '@tfjs-diffusion/benchmarks/node';
import { BACKEND_NAMES, DiffusionError } from '@tfjs-diffusion/core';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command, CommandIo, OptionValues } from '../command.js';
import { choiceOption, integerOption, seedOption, stringOption } from '../options.js';

/** Backends benchmarked in worker threads (one replica per core); the others run on the main thread. */
const WORKER_BACKENDS = ['wasm', 'cpu'];

/** Options of the U-Net benchmark only, and of the large-images benchmark (--architecture) only. */
const UNET_ONLY = ['workers', 'rounds', 'batch', 'profile', 'peers', 'peer-script'];
const LARGE_IMAGES_ONLY = ['batch-sizes', 'checkpoint', 'model-file', 'guided-diffusion', 'onnx-model', 'peer-device'];

/** The large-images benchmark (bench --architecture NAME): parses its options, runs benchLargeImages, prints its JSON object. */
async function runLargeImages(values: OptionValues, io: CommandIo, architecture: string): Promise<void> {
  const misplaced = UNET_ONLY.filter((name) => values[name] !== undefined);
  if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} is an option of the U-Net benchmark, not of --architecture`);
  const checkpoint = stringOption(values, 'checkpoint');
  if (checkpoint === undefined) throw new UsageError('--architecture needs --checkpoint FILE (a float32 .pt from make_random_checkpoint.py)');
  const backend = stringOption(values, 'backend');
  const peerDevice = stringOption(values, 'peer-device');
  const seed = seedOption(values);
  if (typeof seed !== 'number') throw new UsageError(`--seed must be an integer with --architecture, got '${seed}'`);
  try {
    const report = await benchLargeImages({
      architecture: choiceOption(values, 'architecture', Object.keys(LARGE_IMAGE_ARCHITECTURES), architecture),
      checkpoint,
      ...optional('modelFile', stringOption(values, 'model-file')),
      ...optional('guidedDiffusion', stringOption(values, 'guided-diffusion')),
      ...optional('ortDir', stringOption(values, 'ort-dir')),
      ...optional('onnxModel', stringOption(values, 'onnx-model')),
      ...optional('batchSizes', values['batch-sizes'] === undefined ? undefined : parseBatchSizes(String(values['batch-sizes']))),
      ...optional('backend', backend === undefined ? undefined : choiceOption(values, 'backend', LARGE_IMAGES_BACKENDS, 'wasm')),
      ...optional('peerDevice', peerDevice === undefined ? undefined : choiceOption(values, 'peer-device', PEER_DEVICES, 'cpu')),
      threads: integerOption(values, 'peer-threads', 2, 1, 256),
      iterations: integerOption(values, 'iterations', 3, 1, 1000),
      warmup: integerOption(values, 'warmup', 1, 0, 1000),
      seed,
      skipPeers: values['skip-peer'] === true,
      log: (line) => io.stderr(`${line}\n`),
    });
    io.stdout(`${JSON.stringify(report)}\n`);
  } catch (error) {
    throw error instanceof DiffusionError && error.code === 'invalid-argument' ? new UsageError(error.message) : error;
  }
}

const optional = <Key extends string, Value>(key: Key, value: Value | undefined): Partial<Record<Key, Value>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<Key, Value>>;

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
    '',
    'Large images (issue 14): one forward of an ADM U-Net from one float32 guided-diffusion checkpoint in',
    "ours (wasm + native kernels, main thread; or webgpu), PyTorch (guided-diffusion's UNetModel; CPU or CUDA) and onnxruntime-node",
    '(its ONNX export), per batch size, each in its own process: wall and CPU s, peak memory, GFLOP/s, ratios',
    "and the max abs difference of each peer's output from ours on the same input; one JSON object:",
    `  --architecture NAME   ${Object.keys(LARGE_IMAGE_ARCHITECTURES).join(' | ')}`,
    '  --checkpoint FILE     the state_dict .pt (scripts/torch-fixtures/make_random_checkpoint.py --float32)',
    '  --batch-sizes LIST    comma-separated (default 1,4)',
    '  --model-file FILE     our converted model (default: the checkpoint with .safetensors; converted when missing or older)',
    `  --guided-diffusion DIR  a checkout of openai/guided-diffusion for PyTorch (default: $${GUIDED_DIFFUSION_ENVIRONMENT})`,
    '  --ort-dir DIR         as above; the model is DIR/model/NAME.onnx unless --onnx-model FILE (exported when missing or older)',
    "  --peer-threads N      PyTorch and onnxruntime-node threads (default 2); ours: the native kernels' default",
    `  --iterations N, --warmup N, --seed S, --skip-peer, --backend ${LARGE_IMAGES_BACKENDS.join('|')} (defaults 3, 1, 0, off, wasm)`,
    '  --peer-device cpu|cuda  where PyTorch runs (default: cuda with --backend webgpu, else cpu; onnxruntime-node: always CPU)',
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
    architecture: { type: 'string' },
    'batch-sizes': { type: 'string' },
    checkpoint: { type: 'string' },
    'model-file': { type: 'string' },
    'guided-diffusion': { type: 'string' },
    'onnx-model': { type: 'string' },
    'peer-device': { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const architecture = stringOption(values, 'architecture');
    if (architecture !== undefined) return runLargeImages(values, io, architecture);
    const largeOnly = LARGE_IMAGES_ONLY.filter((name) => values[name] !== undefined);
    if (largeOnly.length > 0) throw new UsageError(`--${largeOnly[0]} belongs to the large-images benchmark: give --architecture NAME too`);
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
