import * as tf from '@tensorflow/tfjs-core';
import { type NoiseSchedule, perSampleValues } from '@tfjs-diffusion/core';

/**
 * The forward-process posterior q(x_{t-1} | x_t, x0) = N(mean, betaTilde_t) of DDPM (Ho et al. 2020,
 * eqs. 6-7) at schedule indices `indices`. `logVarianceClipped` uses betaTilde_1 at index 0, where
 * betaTilde_0 = 0. The variances are [batch, 1, ..., 1]; the mean has x0's shape. Call inside tf.tidy.
 */
export function posteriorMeanAndVariance(
  schedule: NoiseSchedule,
  x0: tf.Tensor,
  xt: tf.Tensor,
  indices: ArrayLike<number>,
): { mean: tf.Tensor; variance: tf.Tensor; logVarianceClipped: tf.Tensor } {
  const rank = x0.rank;
  // 1. mu~_t = coef1 x0 + coef2 x_t, with coef1 = beta_t sqrt(aBar_{t-1}) / (1 - aBar_t) and
  //    coef2 = (1 - aBar_{t-1}) sqrt(alpha_t) / (1 - aBar_t), eq. 7 of DDPM
  const coefficientX0 = perSampleValues(schedule.posteriorMeanCoefficientsX0, indices, rank);
  const coefficientXt = perSampleValues(schedule.posteriorMeanCoefficientsXt, indices, rank);
  const mean = tf.add(tf.mul(coefficientX0, x0), tf.mul(coefficientXt, xt));
  // 2. betaTilde_t = beta_t (1 - aBar_{t-1}) / (1 - aBar_t), eq. 7 of DDPM
  const variance = perSampleValues(schedule.posteriorVariances, indices, rank);
  const logVarianceClipped = perSampleValues(schedule.posteriorLogVariancesClipped, indices, rank);
  return { mean, variance, logVarianceClipped };
}
