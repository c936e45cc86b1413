import * as tf from '@tensorflow/tfjs-core';
import {
  type DiffusionModel,
  type ModelOutput,
  type NoiseSchedule,
  assertShape,
  perSampleValues,
  reverseLogVariance,
  toX0AndEpsilon,
} from '@tfjs-diffusion/core';
import { posteriorMeanAndVariance } from './posterior.js';

export interface ReverseProcessInput {
  /** Only the meaning of the output is read: `prediction` and `variance`. */
  readonly model: Pick<DiffusionModel, 'prediction' | 'variance'>;
  readonly schedule: NoiseSchedule;
  /** x_t, [batch, ...dataShape]. */
  readonly xt: tf.Tensor;
  readonly indices: ArrayLike<number>;
  /** The model's output at (x_t, t). */
  readonly output: ModelOutput;
  /** Clip the predicted x0 to [-1, 1] before it forms the mean (image data). */
  readonly clipDenoised?: boolean;
}

/**
 * The reverse step p(x_{t-1} | x_t) = N(mean, exp(logVariance)): the mean is the posterior mean at
 * the predicted x0 (DDPM eq. 7 with eq. 15), the log variance comes from core `reverseLogVariance`
 * (fixed, or learned-range by Improved DDPM eq. 15); improved-diffusion `p_mean_variance`. Call inside tf.tidy.
 */
export function reverseMeanAndLogVariance(input: ReverseProcessInput): {
  mean: tf.Tensor;
  logVariance: tf.Tensor;
  predictedX0: tf.Tensor;
} {
  const { model, schedule, xt, indices, output } = input;
  assertShape(output.prediction.shape, xt.shape, 'model prediction');
  if (output.varianceValues) assertShape(output.varianceValues.shape, xt.shape, 'model varianceValues');
  const alphaBar = perSampleValues(schedule.alphaBars, indices, xt.rank);
  // 1. predicted x0 from the network's output (eps, x0 or v), eq. 15 of DDPM for eps
  const raw = toX0AndEpsilon(model.prediction, output.prediction, xt, alphaBar).x0;
  const predictedX0 = input.clipDenoised ? tf.clipByValue(raw, -1, 1) : raw;
  // 2. mu_theta(x_t, t) = mu~_t(x_t, x0_pred), eq. 7 of DDPM
  const { mean } = posteriorMeanAndVariance(schedule, predictedX0, xt, indices);
  // 3. log Sigma_theta: fixed-small, fixed-large or learned-range (Improved DDPM eq. 15)
  const logVariance = reverseLogVariance(model.variance, schedule, indices, xt.rank, output.varianceValues);
  return { mean, logVariance, predictedX0 };
}
