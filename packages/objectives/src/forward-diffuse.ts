import * as tf from '@tensorflow/tfjs-core';
import { type NoiseSchedule, perSampleValues } from '@tfjs-diffusion/core';

/**
 * Samples q(x_t | x0) = N(sqrt(alphaBar_t) x0, (1 - alphaBar_t) I) with the given noise (DDPM, Ho et al.
 * 2020, eq. 4): x_t = sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps, one schedule index per sample.
 */
export function forwardDiffuse(schedule: NoiseSchedule, x0: tf.Tensor, indices: ArrayLike<number>, epsilon: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const alphaBar = perSampleValues(schedule.alphaBars, indices, x0.rank);
    // 1. x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps, eq. 4 of DDPM
    return tf.add(tf.mul(tf.sqrt(alphaBar), x0), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), epsilon));
  });
}
