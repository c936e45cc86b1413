import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type DiffusionModel, type Guidance, type NoiseSchedule, type Sampler, type SamplerStepEvent } from '@tfjs-diffusion/core';
import { GUIDANCE_NAMES, guidanceByName, nullClassModel, type GuidanceName } from '@tfjs-diffusion/guidance';
import { KARRAS_SAMPLERS, SAMPLER_NAMES, sampleByName, type SamplerName } from '@tfjs-diffusion/samplers';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import type { DiffusionPipeline } from './build-pipeline.js';
import { lowResolutionShape, lowResolutionValues, type LowResolutionInput } from './low-resolution.js';
import { imageNoiseSeed, perImageNoiseSource } from './per-image-noise.js';

/** What `onStep` receives after each sampler step of each batch. */
export interface GenerateStepEvent {
  /** 0 for the first (noisiest) step. */
  readonly step: number;
  readonly totalSteps: number;
  /** The original timestep t of the step just taken. */
  readonly timestep: number;
  /** The batch's x_{t-1} and predicted x0 (NHWC); they live until the callback's promise settles. */
  readonly x: tf.Tensor;
  readonly predictedX0: tf.Tensor;
  /** Which images of the call this batch holds: [firstImage, firstImage + batch). */
  readonly firstImage: number;
  readonly batchIndex: number;
  readonly batchCount: number;
}

/** Options of `pipeline.generate`. */
export interface GenerateOptions {
  /** One image per label (class-conditional models, or the classifier's target with classifier guidance). */
  readonly labels?: readonly number[];
  /** The number of images when there are no labels (unconditional models and `unconditional`). */
  readonly count?: number;
  /** Draw from the model's null class (its unconditional branch); with classifier guidance, the classifier still steers to `labels`. */
  readonly unconditional?: boolean;
  /** A sampler of @tfjs-diffusion/samplers by name, or your own `Sampler` function (default 'ddim'). */
  readonly sampler?: SamplerName | Sampler;
  /** Sampling steps: the schedule respaced to linspace:steps (default 50; with `karras`, that many Karras sigmas). */
  readonly steps?: number;
  /** Noise of ddim / euler-ancestral in [0, 1] (default: 0 for ddim, 1 for euler-ancestral). */
  readonly eta?: number;
  /** Karras et al. (2022) sigmas for euler, euler-ancestral, heun, dpm-solver-plus-plus-2m. */
  readonly karras?: boolean;
  /** 'none' | 'cfg' | 'classifier' (needs the pipeline's classifier), or your own `Guidance` (default 'none'). */
  readonly guidance?: GuidanceName | Guidance;
  /** The guidance scale w; w = 0 means no guidance (default 1 with a named guidance, 0 without). */
  readonly scale?: number;
  /** Image i draws its noise from its own stream, seeded by (seed, i) (default 0). */
  readonly seed?: number | string;
  /** One noise-stream seed per image instead of `seed` (a server batching requests concatenates them). */
  readonly noiseSeeds?: readonly (number | string)[];
  /**
   * Super-resolution models (the guided-diffusion and improved-diffusion upsamplers) only: the
   * low-resolution images, one per generated image, [count, s, s, C] at the model's small size, in
   * the data range; each batch gets its slice. Without labels or count, their number is the count.
   */
  readonly lowResolution?: LowResolutionInput;
  /** Images per network call (default 16); the images do not depend on it. */
  readonly batchSize?: number;
  readonly onStep?: (event: GenerateStepEvent) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/** What `generate` resolves to. */
export interface GenerateResult {
  /** NHWC images in the data range ([-1, 1]); the caller disposes them. */
  readonly images: tf.Tensor4D;
}

const DEFAULT_BATCH_SIZE = 16;

/** The images' labels (null for a model without labels) and count, checked against the model. */
function labelsOf(
  pipeline: DiffusionPipeline,
  options: GenerateOptions,
  classifierGuided: boolean,
  defaultCount: number | undefined,
): { labels: Int32Array | null; count: number } {
  const conditioning = pipeline.conditioning;
  const classes = conditioning?.numClasses ?? pipeline.classifier?.numClasses ?? null;
  if (options.labels !== undefined) {
    if (options.count !== undefined && options.count !== options.labels.length) {
      throw new DiffusionError(
        'invalid-argument',
        `generate: count ${options.count} differs from the ${options.labels.length} labels; give one of them`,
      );
    }
    if (conditioning === null && !classifierGuided) {
      throw new DiffusionError(
        'invalid-argument',
        'generate: labels need a class-conditional model or classifier guidance; this model is unconditional (use count)',
      );
    }
    options.labels.forEach((label, index) => {
      if (!Number.isInteger(label) || label < 0 || label >= (classes as number)) {
        throw new DiffusionError(
          'invalid-argument',
          `generate: labels[${index}] is ${String(label)}, not a class in [0, ${(classes as number) - 1}]`,
        );
      }
    });
    if (options.labels.length === 0) throw new DiffusionError('invalid-argument', 'generate: labels is empty');
    return { labels: Int32Array.from(options.labels), count: options.labels.length };
  }
  if (conditioning !== null && !options.unconditional) {
    throw new DiffusionError(
      'invalid-argument',
      'generate: this model is class-conditional: give labels (one image per label), or unconditional: true with count',
    );
  }
  if (classifierGuided) throw new DiffusionError('invalid-argument', 'generate: classifier guidance needs labels (the classes to steer to)');
  const count = options.count ?? defaultCount;
  if (count === undefined || !Number.isInteger(count) || count < 1) {
    throw new DiffusionError('invalid-argument', `generate: count must be a positive integer, got ${String(count)}`);
  }
  return { labels: null, count };
}

/** The guided model for the options (unconditional: the null-class branch under the guidance). */
function guidedModelOf(pipeline: DiffusionPipeline, options: GenerateOptions): { model: DiffusionModel; classifierGuided: boolean } {
  const guidance = options.guidance ?? 'none';
  const base = options.unconditional ? nullClassModel(pipeline.model) : pipeline.model;
  if (typeof guidance === 'function') return { model: guidance(base), classifierGuided: false };
  if (!(GUIDANCE_NAMES as readonly string[]).includes(guidance)) {
    throw new DiffusionError(
      'invalid-argument',
      `generate: guidance must be one of ${GUIDANCE_NAMES.join(', ')} or a Guidance function, got ${JSON.stringify(guidance)}`,
    );
  }
  const scale = options.scale ?? (guidance === 'none' ? 0 : 1);
  if (!Number.isFinite(scale) || scale < 0)
    throw new DiffusionError('invalid-argument', `generate: scale must be a finite number >= 0, got ${String(scale)}`);
  if (guidance === 'none' && scale !== 0)
    throw new DiffusionError('invalid-argument', `generate: scale ${scale} needs guidance 'cfg' or 'classifier' (scale 0 means no guidance)`);
  if (guidance === 'cfg' && options.unconditional) {
    throw new DiffusionError(
      'invalid-argument',
      "generate: guidance 'cfg' has nothing to steer with unconditional: true (both branches see the null class); use 'classifier'",
    );
  }
  if (guidance === 'classifier' && !pipeline.classifier) {
    throw new DiffusionError(
      'invalid-argument',
      "generate: guidance 'classifier' needs a noise-aware classifier: loadPipeline(source, { classifier })",
    );
  }
  return {
    model: guidanceByName(guidance, { scale, ...(pipeline.classifier ? { classifier: pipeline.classifier } : {}) })(base),
    classifierGuided: guidance === 'classifier',
  };
}

/** The schedule the sampler walks: respaced to linspace:steps, or the full one for Karras sigmas or steps = T. */
function samplingSchedule(schedule: NoiseSchedule, steps: number, karras: boolean): NoiseSchedule {
  const T = schedule.timesteps.length;
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new DiffusionError(
      'invalid-argument',
      `generate: steps must be an integer in [1, ${T}] (the model's training timesteps), got ${String(steps)}`,
    );
  }
  return karras || steps === T ? schedule : respaceSchedule(schedule, `linspace:${steps}`);
}

/**
 * Draws images from a pipeline (the body of `pipeline.generate`): guidance wrapped around the
 * model, the schedule respaced, and per-image noise streams (image i uses `noiseSeeds[i]` or
 * (seed, i)), so an image depends only on the model, the settings, its label and its seed, never
 * on `batchSize` or its neighbours. Predicted x0 is clipped to the data range; a non-finite
 * sample is an error, never a black image.
 */
export async function generateImages(pipeline: DiffusionPipeline, options: GenerateOptions): Promise<GenerateResult> {
  const lowResolution = lowResolutionShape(pipeline);
  if (lowResolution === null && options.lowResolution !== undefined) {
    throw new DiffusionError('invalid-argument', 'generate: lowResolution is for super-resolution models; this model takes no low-resolution image');
  }
  if (lowResolution !== null && options.lowResolution === undefined) {
    throw new DiffusionError(
      'invalid-argument',
      `generate: this is a super-resolution model: give lowResolution, one ${lowResolution[0]}x${lowResolution[1]} image of ${lowResolution[2]} channels per generated image`,
    );
  }
  if (lowResolution !== null && options.guidance === 'cfg') {
    throw new DiffusionError('invalid-argument', "generate: guidance 'cfg' is not supported for super-resolution models (use 'classifier' or none)");
  }
  const { model, classifierGuided } = guidedModelOf(pipeline, options);
  const lowResolutionCount = options.lowResolution === undefined ? undefined : lowResolutionImages(options.lowResolution);
  const { labels, count } = labelsOf(pipeline, options, classifierGuided, lowResolutionCount);
  const lowResolutionData =
    lowResolution === null
      ? null
      : await lowResolutionValues(options.lowResolution as LowResolutionInput, lowResolution, count, pipeline.metadata.data.range);
  const lowResolutionSize = lowResolution === null ? 0 : lowResolution[0] * lowResolution[1] * lowResolution[2];
  const sampler = options.sampler ?? 'ddim';
  if (typeof sampler !== 'function' && !(SAMPLER_NAMES as readonly string[]).includes(sampler)) {
    throw new DiffusionError(
      'invalid-argument',
      `generate: sampler must be one of ${SAMPLER_NAMES.join(', ')} or a Sampler function, got ${JSON.stringify(sampler)}`,
    );
  }
  const karras = options.karras === true;
  if (karras && (typeof sampler === 'function' || !KARRAS_SAMPLERS.includes(sampler))) {
    throw new DiffusionError('invalid-argument', `generate: karras applies to ${KARRAS_SAMPLERS.join(', ')}`);
  }
  const steps = options.steps ?? 50;
  const schedule = samplingSchedule(pipeline.schedule, steps, karras);
  if (options.noiseSeeds !== undefined && options.noiseSeeds.length !== count) {
    throw new DiffusionError('invalid-argument', `generate: noiseSeeds has ${options.noiseSeeds.length} seeds for ${count} images`);
  }
  const seeds = options.noiseSeeds ?? Array.from({ length: count }, (_, index) => imageNoiseSeed(options.seed ?? 0, index));
  const batchSize = options.batchSize ?? Math.min(count, DEFAULT_BATCH_SIZE);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new DiffusionError('invalid-argument', `generate: batchSize must be a positive integer, got ${String(batchSize)}`);

  const dataShape = pipeline.dataShape;
  const imageValues = dataShape[0] * dataShape[1] * dataShape[2];
  const [low, high] = pipeline.metadata.data.range;
  const out = new Float32Array(count * imageValues);
  const batchCount = Math.ceil(count / batchSize);
  for (let batchIndex = 0; batchIndex < batchCount; batchIndex += 1) {
    options.signal?.throwIfAborted();
    const start = batchIndex * batchSize;
    const end = Math.min(count, start + batchSize);
    const labelTensor = labels ? tf.tensor1d(labels.subarray(start, end), 'int32') : null;
    // the batch's own low-resolution images: the same image i for any batchSize
    const lowResolutionTensor =
      lowResolution === null || lowResolutionData === null
        ? null
        : tf.tensor4d(lowResolutionData.slice(start * lowResolutionSize, end * lowResolutionSize), [end - start, ...lowResolution]);
    const condition = {
      ...(labelTensor ? { classLabels: labelTensor } : {}),
      ...(lowResolutionTensor ? { lowResolution: lowResolutionTensor } : {}),
    };
    const onStep = options.onStep;
    const common = {
      model,
      schedule,
      shape: [end - start, ...dataShape],
      noise: perImageNoiseSource(seeds.slice(start, end)),
      clipDenoised: low === -1 && high === 1,
      ...(labelTensor || lowResolutionTensor ? { condition } : {}),
      ...(onStep
        ? {
            onStep: (event: SamplerStepEvent) =>
              onStep({
                step: event.stepNumber,
                totalSteps: event.totalSteps,
                timestep: event.timestep,
                x: event.x,
                predictedX0: event.predictedX0,
                firstImage: start,
                batchIndex,
                batchCount,
              }),
          }
        : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    let result: tf.Tensor;
    try {
      result =
        typeof sampler === 'function'
          ? await sampler(common)
          : await sampleByName(sampler, common, {
              ...(options.eta === undefined ? {} : { eta: options.eta }),
              ...(karras ? { karrasSteps: steps } : {}),
            });
    } finally {
      labelTensor?.dispose();
      lowResolutionTensor?.dispose();
    }
    const values = (await result.data()) as Float32Array;
    result.dispose();
    // 1. A non-finite value is an error, naming the image; 2. clip the last step's overshoot to the data range.
    for (let index = 0; index < values.length; index += 1) {
      const value = values[index] as number;
      if (!Number.isFinite(value)) {
        const image = start + Math.floor(index / imageValues);
        throw new DiffusionError(
          'non-finite-sample',
          `generate: image ${image}${labels ? ` (label ${labels[image]})` : ''} has a non-finite value (${String(value)}) after sampling; the model or guidance produced NaN/Inf`,
        );
      }
      values[index] = Math.min(high, Math.max(low, value));
    }
    out.set(values, start * imageValues);
  }
  return { images: tf.tensor4d(out, [count, ...dataShape]) };
}

/** How many images a lowResolution input holds (its first axis, or its length). */
function lowResolutionImages(input: LowResolutionInput): number | undefined {
  if (input instanceof tf.Tensor) return input.shape[0];
  return Array.isArray(input) ? input.length : undefined;
}
