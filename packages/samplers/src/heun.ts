import * as tf from '@tensorflow/tfjs-core';
import type { Sampler } from '@tfjs-diffusion/core';
import { denoiseAtSigma, runSigmaSampler, type SigmaSpacingOptions } from './sigma-space.js';

/**
 * Heun's second-order method on the probability-flow ODE, Karras et al. 2022 (Elucidating the
 * Design Space), Algorithm 1; an Euler step on the last step to sigma = 0 (k-diffusion's sample_heun).
 */
export const sampleHeun: Sampler<SigmaSpacingOptions> = async (options) =>
  runSigmaSampler(options, (x, { sigma, sigmaNext, timestep, timestepNext }) => {
    // 1. D(x; sigma) and d_i = (x - D) / sigma, line 4 of Algorithm 1
    const { denoised, derivative } = denoiseAtSigma(options, x, sigma, timestep);
    // 2. last step: Euler to sigma = 0 gives D(x; sigma), line 8 of Algorithm 1 skipped
    if (sigmaNext === 0) return { x: denoised, predictedX0: denoised };
    const stepSize = sigmaNext - sigma;
    // 3. Euler predictor x' = x + (sigma_next - sigma) d_i, line 5
    const predicted = tf.add(x, tf.mul(stepSize, derivative));
    // 4. d'_i = (x' - D(x'; sigma_next)) / sigma_next, line 7
    const corrected = denoiseAtSigma(options, predicted, sigmaNext, timestepNext).derivative;
    // 5. x_next = x + (sigma_next - sigma) (d_i + d'_i) / 2, line 8
    return { x: tf.add(x, tf.mul(stepSize / 2, tf.add(derivative, corrected))), predictedX0: denoised };
  });
