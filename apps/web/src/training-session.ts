import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoiseSchedule } from '@tfjs-diffusion/core';
import { createMlpDenoiser, countParameters, type MlpDenoiser } from '@tfjs-diffusion/networks';
import { createObjective } from '@tfjs-diffusion/objectives';
import { sampleByName } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { Trainer, type TrainStepResult } from '@tfjs-diffusion/training';
import { digitBatches } from './digit-batches.js';
import { MNIST_IMAGE_SIZE, MNIST_PIXELS, type MnistDigits } from './mnist-digits.js';

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
 * Whether the active backend has UnsortedSegmentSum, the gradient of the label embedding's
 * gather: @tfjs-diffusion/backends registers it for wasm and cpu, webgl and webgpu have their
 * own. Without it the page trains an unconditional model (and sends no labels).
 */
export function labelGradientAvailable(): boolean {
  return tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined;
}

/** One digit per class, 0..9: the preview row. */
export const PREVIEW_LABELS = Int32Array.from({ length: 10 }, (_, label) => label);

/**
 * Trains a small class-conditional MLP denoiser (x0 prediction, the squared error of DDPM eq. 14 in x0 space,
 * cosine schedule of Improved DDPM, Adam with warm-up, gradient clipping and 10% label dropout
 * for classifier-free guidance) on the bundled digits, flattened to 784 values. An MLP needs
 * only matrix products and their gradients, so it trains at a few steps per second on every
 * backend, even on a software GPU.
 */
export class TrainingSession {
  readonly model: MlpDenoiser;
  readonly schedule: NoiseSchedule;
  readonly parameterCount: number;
  /** Whether the model is class-conditional (see `labelGradientAvailable`). */
  readonly conditional: boolean;
  private readonly trainer: Trainer;

  constructor(
    digits: MnistDigits,
    readonly settings: TrainingSettings,
  ) {
    this.schedule = createSchedule({ kind: 'cosine', timesteps: 1000 });
    this.conditional = labelGradientAvailable();
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
    try {
      this.trainer = new Trainer({
        model: this.model,
        objective: createObjective('simple'),
        schedule: this.schedule,
        batches: digitBatches(digits, settings.batchSize, settings.seed, this.conditional),
        seed: settings.seed,
        learningRate: settings.learningRate,
        warmupSteps: 10,
        gradientClipNorm: 1,
        classDropoutProbability: this.conditional ? 0.1 : 0,
      });
    } catch (error) {
      this.model.dispose();
      throw error;
    }
  }

  get lossHistory(): readonly number[] {
    return this.trainer.lossHistory;
  }

  /** One optimizer step (synchronous gradients inside the trainer; one host read). */
  step(): Promise<TrainStepResult> {
    return this.trainer.trainStep();
  }

  /**
   * Samples one digit per class (10 unconditional digits without labels) with deterministic DDIM
   * from the current weights, as [10, 28, 28, 1] in [-1, 1]; `signal` stops it between steps.
   */
  async preview(signal?: AbortSignal): Promise<tf.Tensor4D> {
    const labels = this.conditional ? tf.tensor1d(PREVIEW_LABELS, 'int32') : null;
    try {
      const samples = await sampleByName('ddim', {
        model: this.model,
        schedule: respaceSchedule(this.schedule, `linspace:${this.settings.previewSteps}`),
        shape: [PREVIEW_LABELS.length, MNIST_PIXELS],
        noise: createNoiseSource(this.settings.seed),
        clipDenoised: true,
        ...(labels ? { condition: { classLabels: labels } } : {}),
        ...(signal ? { signal } : {}),
      });
      const images = tf.reshape(samples, [PREVIEW_LABELS.length, MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE, 1]) as tf.Tensor4D;
      samples.dispose();
      return images;
    } finally {
      labels?.dispose();
    }
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
  }
}
