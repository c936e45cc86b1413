import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DiffusionError } from '@tfjs-diffusion/core';
import { PUBLISHED_MODELS } from '@tfjs-diffusion/converters';
import { ortFolder } from './peer-folder.js';

/** The environment variable naming a checkout of openai/guided-diffusion (the PyTorch peer's code). */
export const GUIDED_DIFFUSION_ENVIRONMENT = 'TFJS_DIFFUSION_GUIDED_DIFFUSION';

/** An architecture the large-images benchmark knows by name: guided-diffusion README model flags. */
export interface LargeImagesArchitecture {
  readonly description: string;
  readonly modelFlags: string;
}

/** The named architectures: the ImageNet-64 ADM of issue 14, and a 16x16 one of the same block types for tests. */
export const LARGE_IMAGE_ARCHITECTURES: Readonly<Record<string, LargeImagesArchitecture>> = {
  'adm-imagenet-64': {
    description: "guided-diffusion's ImageNet 64x64 model (its README's MODEL_FLAGS; 295,904,454 parameters)",
    modelFlags: PUBLISHED_MODELS['guided-64x64'].flags,
  },
  'adm-tiny-16': {
    description: 'a 16x16 ADM with the same block types (32 channels, multipliers 1,2, one residual block per level, attention at 8 and 4 pixels)',
    modelFlags:
      '--attention_resolutions 8,4 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 16 --channel_mult 1,2 ' +
      '--learn_sigma True --noise_schedule cosine --num_channels 32 --num_head_channels 16 --num_res_blocks 1 --resblock_updown True ' +
      '--use_new_attention_order True --use_fp16 True --use_scale_shift_norm True',
  },
};

/** The backends ours runs on in the large-images benchmark. */
export const LARGE_IMAGES_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
export type LargeImagesBackend = (typeof LARGE_IMAGES_BACKENDS)[number];

/** Where the PyTorch peer runs (adm_peer.py --device). */
export const PEER_DEVICES = ['cpu', 'cuda'] as const;
export type PeerDevice = (typeof PEER_DEVICES)[number];

/** What benchLargeImages is asked for; everything but `checkpoint` and `log` has a default. */
export interface BenchLargeImagesOptions {
  /** A name of LARGE_IMAGE_ARCHITECTURES (default 'adm-imagenet-64'), or a label when `modelFlags` is given. */
  readonly architecture?: string;
  /** guided-diffusion README model flags; default: the architecture's. */
  readonly modelFlags?: string;
  /** A state_dict .pt written by the original code (scripts/torch-fixtures/make_random_checkpoint.py --float32). */
  readonly checkpoint: string;
  /** Our converted model file; default: the checkpoint's path with .safetensors (converted when missing or older than the checkpoint). */
  readonly modelFile?: string;
  /** The guided-diffusion checkout for the PyTorch peer; default $TFJS_DIFFUSION_GUIDED_DIFFUSION. */
  readonly guidedDiffusion?: string;
  /** The onnxruntime-node folder (DIR/node_modules/onnxruntime-node); default $TFJS_DIFFUSION_ORT_DIR. */
  readonly ortDir?: string;
  /** The ONNX export; default ORT_DIR/model/ARCHITECTURE.onnx (exported when missing or older than the checkpoint). */
  readonly onnxModel?: string;
  /** Default [1, 4]. */
  readonly batchSizes?: readonly number[];
  /** PyTorch's and onnxruntime-node's threads (default 2); ours uses the native kernels' default on the main thread. */
  readonly threads?: number;
  /** Timed forwards per runner and batch size (default 3; the figure is their median). */
  readonly iterations?: number;
  /** Untimed forwards first (default 1). */
  readonly warmup?: number;
  readonly seed?: number;
  /** Our backend (default 'wasm'; 'cpu' also runs the native kernels; 'webgpu' runs on Dawn, npm `webgpu`, without them). */
  readonly backend?: LargeImagesBackend;
  /** Where PyTorch runs: default 'cuda' when `backend` is 'webgpu' (ours on a GPU against PyTorch on it), else 'cpu'. */
  readonly peerDevice?: PeerDevice;
  /** Run no peer. */
  readonly skipPeers?: boolean;
  /** Per child process (default 30 minutes). */
  readonly timeoutMs?: number;
  readonly environment?: NodeJS.ProcessEnv;
  /** Where progress lines and the reason for each absent peer go. */
  readonly log: (line: string) => void;
}

/** The options after defaults and checks. */
export interface LargeImagesSettings {
  readonly architecture: string;
  readonly modelFlags: string;
  readonly checkpoint: string;
  readonly modelFile: string;
  readonly guidedDiffusion?: { readonly folder: string; readonly from: string };
  readonly ortDir?: { readonly folder: string; readonly from: string };
  readonly onnxModel?: string;
  readonly batchSizes: readonly number[];
  readonly threads: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly seed: number;
  readonly backend: LargeImagesBackend;
  readonly peerDevice: PeerDevice;
  readonly skipPeers: boolean;
  readonly timeoutMs: number;
}

const MAX_BATCH = 256;

function integerIn(name: string, value: number, low: number, high: number): number {
  if (!Number.isInteger(value) || value < low || value > high)
    throw new DiffusionError('invalid-argument', `${name} must be an integer from ${low} to ${high}, got ${value}`);
  return value;
}

/** Parses a comma-separated list of batch sizes ('1,4'): positive integers up to 256, each once. */
export function parseBatchSizes(text: string, option = '--batch-sizes'): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const sizes = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  const bad = parts.find((_, index) => !Number.isInteger(sizes[index]) || (sizes[index] as number) < 1 || (sizes[index] as number) > MAX_BATCH);
  if (bad !== undefined)
    throw new DiffusionError('invalid-argument', `${option} must list batch sizes from 1 to ${MAX_BATCH} separated by commas, got '${text}'`);
  if (new Set(sizes).size !== sizes.length) throw new DiffusionError('invalid-argument', `${option} lists a batch size twice: '${text}'`);
  return sizes;
}

/** Whether `target` exists and is at least as new as `source` (a converted file or export is reused then). */
export function isUpToDate(target: string, source: string): boolean {
  return existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs;
}

/**
 * Applies the defaults and checks every option (DiffusionError('invalid-argument') naming it): a
 * known architecture or explicit flags, an existing checkpoint, sizes and counts in range, and an
 * explicitly given guided-diffusion or onnxruntime-node folder that exists.
 */
export function largeImagesSettings(options: BenchLargeImagesOptions): LargeImagesSettings {
  const environment = options.environment ?? process.env;
  const architecture = options.architecture ?? 'adm-imagenet-64';
  const known = LARGE_IMAGE_ARCHITECTURES[architecture];
  if (options.modelFlags === undefined && known === undefined)
    throw new DiffusionError(
      'invalid-argument',
      `unknown architecture '${architecture}'; known: ${Object.keys(LARGE_IMAGE_ARCHITECTURES).join(', ')} (or give the model flags)`,
    );
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(architecture))
    throw new DiffusionError(
      'invalid-argument',
      `architecture must be lower-case letters, digits, '.' and '-' (it names the ONNX file), got '${architecture}'`,
    );
  const modelFlags = options.modelFlags ?? (known as LargeImagesArchitecture).modelFlags;
  if (modelFlags.trim() === '') throw new DiffusionError('invalid-argument', 'the model flags are empty');
  const checkpoint = resolve(options.checkpoint);
  if (!existsSync(checkpoint) || !statSync(checkpoint).isFile())
    throw new DiffusionError(
      'invalid-argument',
      `checkpoint ${checkpoint} does not exist (make one with scripts/torch-fixtures/make_random_checkpoint.py --float32)`,
    );
  const modelFile = resolve(options.modelFile ?? join(dirname(checkpoint), `${basename(checkpoint, extname(checkpoint))}.safetensors`));
  if (modelFile === checkpoint) throw new DiffusionError('invalid-argument', `the model file would overwrite the checkpoint ${checkpoint}`);
  const batchSizes = [...(options.batchSizes ?? [1, 4])];
  if (batchSizes.length === 0) throw new DiffusionError('invalid-argument', 'batch sizes: give at least one');
  parseBatchSizes(batchSizes.join(','), 'batch sizes');
  let guidedDiffusion: LargeImagesSettings['guidedDiffusion'];
  if (options.guidedDiffusion !== undefined) {
    const folder = resolve(options.guidedDiffusion);
    if (!existsSync(join(folder, 'guided_diffusion', 'unet.py')))
      throw new DiffusionError(
        'invalid-argument',
        `--guided-diffusion ${folder} is not a checkout of openai/guided-diffusion (no guided_diffusion/unet.py)`,
      );
    guidedDiffusion = { folder, from: '--guided-diffusion' };
  } else {
    const fromEnvironment = environment[GUIDED_DIFFUSION_ENVIRONMENT];
    if (fromEnvironment !== undefined && fromEnvironment !== '')
      guidedDiffusion = { folder: resolve(fromEnvironment), from: `$${GUIDED_DIFFUSION_ENVIRONMENT}` };
  }
  const ortDir = ortFolder(options.ortDir, environment);
  if (ortDir?.from === '--ort-dir' && !existsSync(ortDir.folder))
    throw new DiffusionError('invalid-argument', `--ort-dir ${ortDir.folder} does not exist`);
  const onnxModel =
    options.onnxModel !== undefined ? resolve(options.onnxModel) : ortDir ? join(ortDir.folder, 'model', `${architecture}.onnx`) : undefined;
  const backend = checkBackend(options.backend ?? 'wasm');
  return {
    architecture,
    modelFlags,
    checkpoint,
    modelFile,
    ...(guidedDiffusion ? { guidedDiffusion } : {}),
    ...(ortDir ? { ortDir } : {}),
    ...(onnxModel ? { onnxModel } : {}),
    batchSizes,
    threads: integerIn('threads', options.threads ?? 2, 1, 256),
    iterations: integerIn('iterations', options.iterations ?? 3, 1, 1000),
    warmup: integerIn('warmup', options.warmup ?? 1, 0, 1000),
    seed: integerIn('seed', options.seed ?? 0, 0, 2 ** 31 - 1),
    backend,
    peerDevice: checkPeerDevice(options.peerDevice ?? (backend === 'webgpu' ? 'cuda' : 'cpu')),
    skipPeers: options.skipPeers === true,
    timeoutMs: integerIn('timeoutMs', options.timeoutMs ?? 30 * 60_000, 1_000, 24 * 3_600_000),
  };
}

function checkBackend(backend: string): LargeImagesBackend {
  if (!(LARGE_IMAGES_BACKENDS as readonly string[]).includes(backend))
    throw new DiffusionError('invalid-argument', `the large-images benchmark runs ours on ${LARGE_IMAGES_BACKENDS.join(', ')}, got '${backend}'`);
  return backend as LargeImagesBackend;
}

function checkPeerDevice(device: string): PeerDevice {
  if (!(PEER_DEVICES as readonly string[]).includes(device))
    throw new DiffusionError('invalid-argument', `the PyTorch peer runs on ${PEER_DEVICES.join(' or ')}, got '${device}'`);
  return device as PeerDevice;
}
