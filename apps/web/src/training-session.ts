import * as tf from '@tensorflow/tfjs-core';
import { createMlpDenoiser, countParameters, type MlpDenoiser } from '@tfjs-diffusion/networks';
import { createObjective } from '@tfjs-diffusion/objectives';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { Trainer, type TrainStepResult } from '@tfjs-diffusion/training';
import type { NoiseSchedule } from '@tfjs-diffusion/core';
import { digitBatches } from './digit-batches.js';
import { MNIST_PIXELS, type MnistDigits } from './mnist-digits.js';
import { sampleDigits } from './sample-digits.js';

/** What the training form sets. */
export interface TrainingSettings {
  /** Width of the MLP denoiser's hidden layers. */
  readonly hiddenSize: number;
  /** Residual blocks of the MLP. */
  readonly hiddenLayers: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** DDIM steps of the live sample previews. */
  readonly previewSteps: number;
  readonly seed: number;
}

/**
 * Whether the active backend lacks UnsortedSegmentSum, the gradient of the label embedding's
 * gather (tfjs's wasm backend does; @tfjs-diffusion/backends registers one for Node): then the
 * page trains an unconditional model.
 */
export function labelGradientMissing(): boolean {
  return tf.getKernel('UnsortedSegmentSum', tf.getBackend()) === undefined;
}

/** One digit per class, 0..9: the preview row. */
export const PREVIEW_LABELS = Int32Array.from({ length: 10 }, (_, label) => label);

/**
 * Trains a small class-conditional MLP denoiser (x0 prediction, the squared error of DDPM eq. 14 in x0 space,
 * cosine schedule of Improved DDPM, Adam with warm-up, gradient clipping and 10% label dropout
 * for classifier-free guidance) on the bundled digits, flattened to 784 values. An MLP needs
 * only matrix products and their gradients, so it trains on every backend (the wasm backend has
 * no conv2d filter gradient) at a few steps per second even on a software GPU.
 */
export class TrainingSession {
  readonly model: MlpDenoiser;
  readonly schedule: NoiseSchedule;
  readonly parameterCount: number;
  /** Whether the model is class-conditional (see `labelGradientMissing`). */
  readonly conditional: boolean;
  private readonly trainer: Trainer;

  constructor(digits: MnistDigits, readonly settings: TrainingSettings) {
    this.schedule = createSchedule({ kind: 'cosine', timesteps: 1000 });
    this.conditional = !labelGradientMissing();
    this.model = createMlpDenoiser({
      type: 'mlp',
      dataDimension: MNIST_PIXELS,
      hiddenSize: settings.hiddenSize,
      hiddenLayers: settings.hiddenLayers,
      numClasses: this.conditional ? 10 : null,
      // x0 prediction: an MLP narrower than the image cannot pass full-rank noise through to
      // predict epsilon, but the clean digits lie near a low-dimensional set it learns quickly
      prediction: 'x0',
      variance: 'fixed-large',
      seed: settings.seed,
    });
    this.parameterCount = countParameters(this.model);
    this.trainer = new Trainer({
      model: this.model,
      objective: createObjective('simple'),
      schedule: this.schedule,
      batches: digitBatches(digits, settings.batchSize, settings.seed),
      seed: settings.seed,
      learningRate: settings.learningRate,
      warmupSteps: 10,
      gradientClipNorm: 1,
      classDropoutProbability: this.conditional ? 0.1 : 0,
    });
  }

  get lossHistory(): readonly number[] {
    return this.trainer.lossHistory;
  }

  /** One optimizer step (synchronous gradients inside the trainer; one host read). */
  step(): Promise<TrainStepResult> {
    return this.trainer.trainStep();
  }

  /** Samples one digit per class with deterministic DDIM from the current weights; values in [-1, 1]. */
  preview(): Promise<Float32Array> {
    return sampleDigits({
      model: this.model,
      schedule: this.schedule,
      settings: {
        sampler: 'ddim',
        steps: this.settings.previewSteps,
        eta: 0,
        karras: false,
        guidance: 'none',
        scale: 0,
        classLabel: 0,
        batchSize: PREVIEW_LABELS.length,
        seed: this.settings.seed,
      },
      labels: PREVIEW_LABELS,
      dataShape: [MNIST_PIXELS],
    });
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
  }
}
