import * as tf from '@tensorflow/tfjs-core';
import type { NoiseSchedule } from '@tfjs-diffusion/core';
import { meanOverDataDimensions } from './mean-over-data-dimensions.js';
import { normalKl } from './normal-kl.js';

/**
 * The prior term L_T = KL(q(x_T | x0) || N(0, I)) of the variational bound in bits/dim, one value per
 * sample (DDPM, Ho et al. 2020, eq. 5; improved-diffusion `_prior_bpd`). It has no parameters.
 */
export function priorBitsPerDim(schedule: NoiseSchedule, x0: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const alphaBar = schedule.alphaBars[schedule.alphaBars.length - 1] as number;
    // 1. q(x_T | x0) = N(sqrt(aBar_T) x0, (1 - aBar_T) I), eq. 4 of DDPM
    const mean = tf.mul(Math.sqrt(alphaBar), x0);
    const logVariance = Math.log(1 - alphaBar);
    // 2. KL against the standard normal, mean over data dimensions, nats -> bits
    return tf.div(meanOverDataDimensions(normalKl(mean, logVariance, 0, 0)), Math.LN2) as tf.Tensor1D;
  });
}
