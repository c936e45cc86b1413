import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, DiffusionError, type DiffusionModel, type NoiseSchedule, type NoisyClassifier } from '@tfjs-diffusion/core';
import { guidanceByName } from '@tfjs-diffusion/guidance';
import { sampleByName } from '@tfjs-diffusion/samplers';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import { createBatchNoiseSource } from './batch-noise-source.js';
import { KARRAS_SAMPLERS, type SamplingSettings } from './sampling-settings.js';

/** One request's share of a batch: its labels (one per sample) and its own seed. */
export interface BatchPart {
  readonly labels: Int32Array;
  readonly seed: number;
}

export interface DrawBatchOptions {
  readonly model: DiffusionModel;
  /** The noise-aware classifier, needed for guidance 'classifier'. */
  readonly classifier?: NoisyClassifier;
  /** The full training schedule; respaced here to the settings' steps. */
  readonly schedule: NoiseSchedule;
  /** The shape of one sample, e.g. [28, 28, 1]. */
  readonly dataShape: readonly number[];
  readonly settings: SamplingSettings;
  readonly parts: readonly BatchPart[];
  /** Awaited after every step, e.g. to let the event loop serve HTTP between steps. */
  readonly onStep?: () => Promise<void>;
}

/** The model with the settings' guidance wrapped around it. */
export function guidedModel(model: DiffusionModel, settings: SamplingSettings, classifier?: NoisyClassifier): DiffusionModel {
  return guidanceByName(settings.guidance, { scale: settings.scale, ...(classifier ? { classifier } : {}) })(model);
}

/** The schedule the sampler walks: the training one, or respaced to linspace:steps (not for Karras sigmas). */
function samplingSchedule(schedule: NoiseSchedule, settings: SamplingSettings): { schedule: NoiseSchedule; karras: boolean } {
  const timesteps = schedule.timesteps.length;
  if (settings.steps > timesteps) {
    throw new DiffusionError('invalid-argument', `steps ${settings.steps} exceeds the model's ${timesteps} training timesteps`);
  }
  const karras = settings.karras && KARRAS_SAMPLERS.includes(settings.sampler);
  return { schedule: karras || settings.steps === timesteps ? schedule : respaceSchedule(schedule, `linspace:${settings.steps}`), karras };
}

/**
 * Samples the requests of one batch with one network call per step (clipped predicted x0, as the
 * CLI does). Each part's x_T and per-step noise come from its own seed through a batch noise
 * source, so a part's samples equal what it would get alone. Returns each part's NHWC values,
 * clipped to [-1, 1]; leaves no tensor behind.
 */
export async function drawBatch(options: DrawBatchOptions): Promise<Float32Array[]> {
  const { settings, parts, dataShape } = options;
  const { schedule, karras } = samplingSchedule(options.schedule, settings);
  const model = guidedModel(options.model, settings, options.classifier);
  const batchSize = parts.reduce((sum, part) => sum + part.labels.length, 0);
  const labels = new Int32Array(batchSize);
  let offset = 0;
  for (const part of parts) {
    labels.set(part.labels, offset);
    offset += part.labels.length;
  }
  const noise = createBatchNoiseSource(parts.map((part) => ({ rows: part.labels.length, source: createNoiseSource(part.seed) })));
  const labelTensor = model.conditioning === null ? undefined : tf.tensor1d(labels, 'int32');
  const onStep = options.onStep;
  const common = {
    model,
    schedule,
    shape: [batchSize, ...dataShape],
    noise,
    clipDenoised: true,
    ...(labelTensor ? { condition: { classLabels: labelTensor } } : {}),
    ...(onStep ? { onStep: () => onStep() } : {}),
  };
  let result: tf.Tensor;
  try {
    result = await sampleByName(settings.sampler, common, { eta: settings.eta, ...(karras ? { karrasSteps: settings.steps } : {}) });
  } finally {
    labelTensor?.dispose();
  }
  let values: Float32Array;
  try {
    values = (await result.data()) as Float32Array;
  } finally {
    result.dispose();
  }
  // the samplers clip predicted x0; the last step can still overshoot [-1, 1] slightly
  for (let index = 0; index < values.length; index += 1) values[index] = Math.min(1, Math.max(-1, values[index] as number));
  const sampleSize = dataShape.reduce((product, size) => product * size, 1);
  const out: Float32Array[] = [];
  offset = 0;
  for (const part of parts) {
    out.push(values.slice(offset * sampleSize, (offset + part.labels.length) * sampleSize));
    offset += part.labels.length;
  }
  return out;
}
