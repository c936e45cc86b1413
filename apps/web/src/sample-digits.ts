import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type DiffusionModel, type NoiseSchedule, type NoisyClassifier, type SamplerOptions } from '@tfjs-diffusion/core';
import { classifierFreeGuidance, classifierGuidance } from '@tfjs-diffusion/guidance';
import { sampleByName } from '@tfjs-diffusion/samplers';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import { KARRAS_SAMPLERS, type SamplingSettings } from './sampling-settings.js';

/** The model with the requested guidance wrapped around it (w = 0 or 'none': the model itself). */
export function guidedModel(model: DiffusionModel, settings: SamplingSettings, classifier: NoisyClassifier | null): DiffusionModel {
  if (settings.scale === 0) return model;
  switch (settings.guidance) {
    case 'none':
      return model;
    case 'cfg':
      return classifierFreeGuidance({ scale: settings.scale })(model);
    case 'classifier':
      if (!classifier) throw new Error('classifier guidance needs the noise-aware classifier, which is not loaded');
      return classifierGuidance({ classifier, scale: settings.scale })(model);
  }
}

export interface SampleDigitsOptions {
  readonly model: DiffusionModel;
  /** The full training schedule; respaced here to linspace:steps. */
  readonly schedule: NoiseSchedule;
  readonly settings: SamplingSettings;
  /** One label per image (for a class-conditional model). */
  readonly labels: Int32Array;
  /** Data shape of one image: [28, 28, 1] for the U-Net, [784] for the MLP. */
  readonly dataShape: readonly number[];
  readonly classifier?: NoisyClassifier | null;
  readonly onStep?: SamplerOptions['onStep'];
  readonly signal?: AbortSignal;
}

/**
 * Draws one batch with the chosen sampler and guidance, clipping predicted x0; x_T and every
 * per-step noise come from createNoiseSource(seed), so a seed gives the same digits on every
 * backend. Returns the values in [-1, 1], image after image.
 */
export async function sampleDigits(options: SampleDigitsOptions): Promise<Float32Array> {
  const { settings, labels, schedule } = options;
  const karras = settings.karras && KARRAS_SAMPLERS.includes(settings.sampler);
  const steps = Math.min(settings.steps, schedule.timesteps.length);
  const samplingSchedule = karras || steps === schedule.timesteps.length ? schedule : respaceSchedule(schedule, `linspace:${steps}`);
  const model = guidedModel(options.model, settings, options.classifier ?? null);
  const labelTensor = model.conditioning ? tf.tensor1d(labels, 'int32') : null;
  const common: SamplerOptions = {
    model,
    schedule: samplingSchedule,
    shape: [labels.length, ...options.dataShape],
    noise: createNoiseSource(settings.seed),
    clipDenoised: true,
    ...(labelTensor ? { condition: { classLabels: labelTensor } } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let result: tf.Tensor;
  try {
    result = await sampleByName(settings.sampler, common, { eta: settings.eta, ...(karras ? { karrasSteps: steps } : {}) });
  } finally {
    labelTensor?.dispose();
  }
  const values = (await result.data()) as Float32Array;
  result.dispose();
  for (let index = 0; index < values.length; index += 1) values[index] = Math.min(1, Math.max(-1, values[index] as number));
  return values;
}
