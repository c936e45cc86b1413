import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type DiffusionModel, type NoiseSchedule, type NoisyClassifier, type SamplerOptions } from '@tfjs-diffusion/core';
import { guidanceByName } from '@tfjs-diffusion/guidance';
import type { GenerateOptions } from '@tfjs-diffusion/pipelines';
import { ETA_SAMPLERS, KARRAS_SAMPLERS, SAMPLER_NAMES, sampleByName, type SamplerName } from '@tfjs-diffusion/samplers';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import { UsageError } from '../cli-error.js';
import type { OptionValues } from '../command.js';
import { choiceOption, integerOption, numberOption } from '../options.js';

export { SAMPLER_NAMES, type SamplerName };
export const GUIDANCE_NAMES = ['none', 'cfg', 'classifier'] as const;
export type GuidanceName = (typeof GUIDANCE_NAMES)[number];

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
  '  --batch-size B          images sampled at once (default 50); batch b has its own noise stream',
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
): Pick<GenerateOptions, 'sampler' | 'steps' | 'eta' | 'karras' | 'guidance' | 'scale' | 'batchSize'> {
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

/** The model with the requested guidance wrapped around it. */
export function guidedModel(model: DiffusionModel, settings: SamplingSettings, classifier?: NoisyClassifier): DiffusionModel {
  return guidanceByName(settings.guidance, { scale: settings.scale, ...(classifier ? { classifier } : {}) })(model);
}

export interface SampleImagesOptions {
  readonly model: DiffusionModel;
  /** The full training schedule; respaced here. */
  readonly schedule: NoiseSchedule;
  readonly settings: SamplingSettings;
  /** One class label per image (ignored for an unconditional model). */
  readonly labels: Int32Array;
  readonly dataShape: readonly number[];
  readonly seed: number | string;
  readonly onBatch?: (done: number, total: number) => void;
}

/** The seed of batch `index`: every batch has its own noise stream, so batches can run in any order or thread. */
export function batchSeed(seed: number | string, index: number | string): string {
  return `${seed}/batch-${index}`;
}

/** The batches of `count` images: [start, end) index ranges of `batchSize` (the last one shorter). */
export function batchRanges(count: number, batchSize: number): { readonly start: number; readonly end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < count; start += batchSize) ranges.push({ start, end: Math.min(count, start + batchSize) });
  return ranges;
}

export interface SampleBatchOptions {
  readonly model: DiffusionModel;
  /** The full training schedule; respaced here. */
  readonly schedule: NoiseSchedule;
  readonly settings: SamplingSettings;
  /** One class label per image of this batch (ignored for an unconditional model). */
  readonly labels: Int32Array;
  readonly dataShape: readonly number[];
  /** The batch's own seed (see batchSeed). */
  readonly seed: string;
  /** The sampler's per-step callback (x_t and predicted x0). */
  readonly onStep?: SamplerOptions['onStep'];
}

/** The schedule the sampler walks: the training one, or respaced to linspace:steps (not for Karras sigmas). */
function samplingScheduleFor(schedule: NoiseSchedule, settings: SamplingSettings): { schedule: NoiseSchedule; karras: boolean } {
  const T = schedule.timesteps.length;
  if (settings.steps > T) throw new UsageError(`--steps ${settings.steps} exceeds the model's ${T} training timesteps`);
  const karras = settings.karras && KARRAS_SAMPLERS.includes(settings.sampler);
  return { schedule: karras || settings.steps === T ? schedule : respaceSchedule(schedule, `linspace:${settings.steps}`), karras };
}

/**
 * Draws one batch, one image per label, with clipDenoised; x_T and every per-step noise come from
 * the batch's own seeded source. Returns NHWC values clipped to [-1, 1].
 */
export async function sampleBatch(options: SampleBatchOptions): Promise<Float32Array> {
  const { model, settings, labels, dataShape } = options;
  const { schedule: samplingSchedule, karras } = samplingScheduleFor(options.schedule, settings);
  const noise = createNoiseSource(options.seed);
  const conditional = model.conditioning !== null;
  const labelTensor = conditional ? tf.tensor1d(labels, 'int32') : undefined;
  const common = {
    model,
    schedule: samplingSchedule,
    shape: [labels.length, ...dataShape],
    noise,
    clipDenoised: true,
    ...(labelTensor ? { condition: { classLabels: labelTensor } } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  };
  let result: tf.Tensor;
  try {
    result = await sampleByName(settings.sampler, common, { eta: settings.eta, ...(karras ? { karrasSteps: settings.steps } : {}) });
  } finally {
    labelTensor?.dispose();
  }
  const values = (await result.data()) as Float32Array;
  result.dispose();
  // clip to the data range (samplers clip predicted x0; the last step can still overshoot slightly)
  for (let index = 0; index < values.length; index += 1) values[index] = Math.min(1, Math.max(-1, values[index] as number));
  return values;
}

/**
 * Draws one image per label in batches of `settings.batchSize` on the calling thread; batch b uses
 * the noise of batchSeed(seed, b), so the result does not depend on how batches are spread over
 * threads (see sampleImagesInWorkers). Returns NHWC values in [-1, 1].
 */
export async function sampleImages(options: SampleImagesOptions): Promise<Float32Array> {
  const { labels, dataShape } = options;
  samplingScheduleFor(options.schedule, options.settings);
  const imageSize = dataShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(labels.length * imageSize);
  const ranges = batchRanges(labels.length, options.settings.batchSize);
  for (const [index, { start, end }] of ranges.entries()) {
    const values = await sampleBatch({ ...options, labels: labels.subarray(start, end), seed: batchSeed(options.seed, index) });
    out.set(values, start * imageSize);
    options.onBatch?.(end, labels.length);
  }
  return out;
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
