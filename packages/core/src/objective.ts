import type { Scalar, Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import type { DiffusionModel, ModelCondition } from './diffusion-model.js';
import type { NoiseSchedule } from './noise-schedule.js';
import type { NoiseSource } from './noise-source.js';

/** Picks training timesteps (schedule indices) and the weights that keep the loss unbiased. */
export interface TimestepSampler {
  readonly name: string;
  sample(batchSize: number, noise: NoiseSource): { indices: Int32Array; weights: Float64Array };
  /** Feeds back per-sample losses (importance sampling uses them; uniform ignores them). */
  update?(indices: Int32Array, losses: Float64Array): void;
  getState?(): unknown;
  setState?(state: unknown): void;
}

export interface ObjectiveInput {
  readonly model: DiffusionModel;
  readonly schedule: NoiseSchedule;
  /** Clean data, [batch, ...dataShape]. */
  readonly x0: Tensor;
  readonly condition?: ModelCondition;
  readonly noise: NoiseSource;
  /** Uniform when absent. */
  readonly timestepSampler?: TimestepSampler;
}

export interface ObjectiveResult {
  /** The weighted mean loss to minimise. */
  readonly loss: Scalar;
  /** Unweighted loss of each sample, [batch] (fed back to the timestep sampler). */
  readonly perSampleLoss: Tensor1D;
  /** Schedule indices used for each sample. */
  readonly indices: Int32Array;
  /** Named parts of the loss (e.g. mse, vlb), each a weighted scalar; together they add up to `loss`. */
  readonly terms: Readonly<Record<string, Scalar>>;
}

/**
 * A training objective. Inside `tf.variableGrads` only `loss` survives the gradient tape, so a
 * trainer must `tf.keep` `perSampleLoss` and `terms` if it reads them. `compute` is synchronous so it can run inside `optimizer.minimize` or
 * `tf.variableGrads`; it draws its timesteps and noise from `input.noise`.
 */
export interface Objective {
  readonly name: string;
  compute(input: ObjectiveInput): ObjectiveResult;
}
