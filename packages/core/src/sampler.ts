import type { Tensor } from '@tensorflow/tfjs-core';
import type { DiffusionModel, ModelCondition } from './diffusion-model.js';
import type { NoiseSchedule } from './noise-schedule.js';
import type { NoiseSource } from './noise-source.js';

/** What every sampler receives. A sampler may add options of its own (`Sampler<{ eta: number }>`). */
export interface SamplerOptions {
  readonly model: DiffusionModel;
  /** The (possibly respaced) schedule; its steps are walked from last to first. */
  readonly schedule: NoiseSchedule;
  /** [batch, ...dataShape]. */
  readonly shape: readonly number[];
  /** Seeded host-side noise: x_T and every per-step noise come from it, in a fixed order. */
  readonly noise: NoiseSource;
  readonly condition?: ModelCondition;
  /** Starting point x_T; drawn from `noise` when absent. Not disposed by the sampler. */
  readonly initialNoise?: Tensor;
  /** Clip predicted x0 to [-1, 1] before it is used (image data). */
  readonly clipDenoised?: boolean;
  /** Called after each step; the tensors live only until the callback's promise settles. */
  readonly onStep?: (event: SamplerStepEvent) => void | Promise<void>;
  /** Stops the loop between steps with an AbortError. */
  readonly signal?: AbortSignal;
}

export interface SamplerStepEvent {
  /** 0 for the first (noisiest) step. */
  readonly stepNumber: number;
  readonly totalSteps: number;
  /** Original timestep t of the step just taken. */
  readonly timestep: number;
  /** The new sample x_{t-1} (x0 after the last step). */
  readonly x: Tensor;
  /** The model's prediction of x0 at this step. */
  readonly predictedX0: Tensor;
}

/**
 * A sampler is an async function over a model and a schedule, like k-diffusion's
 * `sample_euler(model, x, sigmas)`. Each step runs synchronously inside tf.tidy; only the loop awaits.
 * It returns x0 (the caller disposes it) and leaves no other tensor behind.
 */
export type Sampler<Extra extends object = Record<never, never>> = (options: SamplerOptions & Extra) => Promise<Tensor>;
