import * as tf from '@tensorflow/tfjs-core';
import type { Sampler } from '@tfjs-diffusion/core';
import { denoiseAtSigma, runSigmaSampler, type SigmaSpacingOptions } from './sigma-space.js';

/**
 * Euler's method on the probability-flow ODE dx/dsigma = (x - D(x; sigma)) / sigma: Karras et al.
 * 2022 (Elucidating the Design Space), Algorithm 2 without churn or the second-order correction;
 * k-diffusion's sample_euler.
 */
export const sampleEuler: Sampler<SigmaSpacingOptions> = async (options) =>
  runSigmaSampler(options, (x, { sigma, sigmaNext, timestep }) => {
    // 1. D(x; sigma) and d = (x - D) / sigma, eq. 3 of Karras et al.
    const { denoised, derivative } = denoiseAtSigma(options, x, sigma, timestep);
    // 2. x_next = x + (sigma_next - sigma) d; at sigma_next = 0 this is exactly D(x; sigma)
    if (sigmaNext === 0) return { x: denoised, predictedX0: denoised };
    return { x: tf.add(x, tf.mul(sigmaNext - sigma, derivative)), predictedX0: denoised };
  });
