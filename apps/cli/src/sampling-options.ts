import { GUIDANCE_NAMES, type GuidanceName } from '@tfjs-diffusion/guidance';
import type { GenerateWorkerInit, PooledGenerateOptions } from '@tfjs-diffusion/parallel';
import { ETA_SAMPLERS, KARRAS_SAMPLERS, SAMPLER_NAMES, type SamplerName } from '@tfjs-diffusion/samplers';
import { DEFAULT_DENOISER, DEFAULT_NOISY_CLASSIFIER, requireFile } from './checkpoint/default-models.js';
import { UsageError } from './cli-error.js';
import type { OptionValues } from './command.js';
import { choiceOption, integerOption, numberOption, stringOption } from './options.js';

/** How to sample: sampler, respaced steps, eta, Karras sigmas, guidance. */
export interface SamplingSettings {
  readonly sampler: SamplerName;
  readonly steps: number;
  readonly eta: number;
  readonly karras: boolean;
  readonly guidance: GuidanceName;
  /** The guidance scale w (w = 0: no guidance). */
  readonly scale: number;
  readonly batchSize: number;
  /** Worker threads for --workers (undefined: one per core on wasm/cpu; 0: the calling thread). */
  readonly workers?: number;
}

/** Usage lines for the sampling options (shared by sample and eval). */
export const SAMPLING_USAGE = [
  `  --sampler NAME          ${SAMPLER_NAMES.join(' | ')} (default ddim)`,
  '  --steps S               sampling steps, the schedule respaced to linspace:S (default 50)',
  '  --eta E                 noise of ddim / euler-ancestral in [0, 1] (default: 0 for ddim, 1 for euler-ancestral)',
  '  --karras                Karras et al. sigmas (euler, euler-ancestral, heun, dpm-solver-plus-plus-2m)',
  '  --guidance KIND         none | cfg (classifier-free) | classifier (default none)',
  '  --scale W               the guidance scale w; w = 0 means no guidance (default 1 with --guidance)',
  '  --classifier FILE       the noise-aware classifier for --guidance classifier',
  '                          (default: models/mnist-classifier.safetensors of the repository)',
  '  --batch-size B          images sampled at once (default 50); image i has its own noise stream,',
  '                          so the images are the same for any B',
  '  --workers N             worker threads drawing batches in parallel, same images for any N',
  '                          (default: one per core on wasm/cpu, at most one per batch; 0: this thread)',
];

export const SAMPLING_OPTIONS = {
  sampler: { type: 'string' },
  steps: { type: 'string' },
  eta: { type: 'string' },
  karras: { type: 'boolean' },
  guidance: { type: 'string' },
  scale: { type: 'string' },
  classifier: { type: 'string' },
  'batch-size': { type: 'string' },
  workers: { type: 'string' },
} as const;

/** Reads and cross-checks the sampling options. */
export function samplingSettings(values: OptionValues): SamplingSettings {
  const sampler = choiceOption(values, 'sampler', SAMPLER_NAMES, 'ddim');
  const guidance = choiceOption(values, 'guidance', GUIDANCE_NAMES, 'none');
  if (values['karras'] && !KARRAS_SAMPLERS.includes(sampler)) {
    throw new UsageError(`--karras applies to ${KARRAS_SAMPLERS.join(', ')}, not to --sampler ${sampler}`);
  }
  if (values['eta'] !== undefined && !ETA_SAMPLERS.includes(sampler)) {
    throw new UsageError(`--eta applies to ${ETA_SAMPLERS.join(', ')}, not to --sampler ${sampler}`);
  }
  if (values['classifier'] !== undefined && guidance !== 'classifier') throw new UsageError('--classifier needs --guidance classifier');
  const scale = numberOption(values, 'scale', guidance === 'none' ? 0 : 1, 0, 1000);
  // a scale of 0 without guidance is consistent (sweeps write it); only a nonzero one needs a guidance
  if (scale !== 0 && guidance === 'none')
    throw new UsageError(`--scale ${scale} needs --guidance cfg or --guidance classifier (--scale 0 means no guidance)`);
  return {
    sampler,
    steps: integerOption(values, 'steps', 50, 1, 100_000),
    eta: numberOption(values, 'eta', sampler === 'euler-ancestral' ? 1 : 0, 0, 1),
    karras: values['karras'] === true,
    guidance,
    scale,
    batchSize: integerOption(values, 'batch-size', 50, 1, 10_000),
    ...(values['workers'] === undefined ? {} : { workers: integerOption(values, 'workers', 0, 0, 64) }),
  };
}

/** The `generate` options of @tfjs-diffusion/pipelines for these settings (everything but the images' labels and seeds). */
export function generateSettings(
  settings: SamplingSettings,
): Pick<PooledGenerateOptions, 'sampler' | 'steps' | 'eta' | 'karras' | 'guidance' | 'scale' | 'batchSize'> {
  return {
    sampler: settings.sampler,
    steps: settings.steps,
    ...(ETA_SAMPLERS.includes(settings.sampler) ? { eta: settings.eta } : {}),
    karras: settings.karras,
    guidance: settings.guidance,
    scale: settings.scale,
    batchSize: settings.batchSize,
  };
}

/**
 * The files a sampling command loads (and each sampling worker too): --checkpoint (or --model, the
 * repository's MNIST model by default), --classifier with --guidance classifier, --weights.
 */
export function samplingFiles(values: OptionValues, settings: SamplingSettings): GenerateWorkerInit & { readonly model: string } {
  if (values['checkpoint'] !== undefined && values['model'] !== undefined)
    throw new UsageError('--model and --checkpoint name the same file: give one');
  const model = stringOption(values, 'model') ?? stringOption(values, 'checkpoint') ?? DEFAULT_DENOISER;
  if (model === DEFAULT_DENOISER) requireFile(model, '--checkpoint', 'train one (tfjs-diffusion train) and pass --checkpoint FILE');
  const classifier = settings.guidance === 'classifier' ? (stringOption(values, 'classifier') ?? DEFAULT_NOISY_CLASSIFIER) : undefined;
  if (classifier === DEFAULT_NOISY_CLASSIFIER)
    requireFile(classifier, '--classifier', 'train one (tfjs-diffusion train-classifier) and pass --classifier FILE');
  const weights = choiceOption(values, 'weights', ['ema', 'model'] as const, 'ema') === 'model' ? 'raw' : 'ema';
  return { model, weights, ...(classifier === undefined ? {} : { classifier }) };
}

/** Parses '--classes 0,1,...' (default all) against the model's class count. */
export function parseClasses(text: string | undefined, numClasses: number): number[] {
  if (text === undefined) return Array.from({ length: numClasses }, (_, index) => index);
  const classes = text.split(',').map((part) => part.trim());
  for (const part of classes) {
    if (!/^\d+$/.test(part) || Number(part) >= numClasses) {
      throw new UsageError(`--classes must list integers in [0, ${numClasses - 1}] separated by commas, got '${text}'`);
    }
  }
  return classes.map(Number);
}
