import * as tf from '@tensorflow/tfjs-core';
import type { Sampler } from '@tfjs-diffusion/core';
import { denoiseAtSigma, runSigmaSampler, type SigmaSpacingOptions } from './sigma-space.js';

/**
 * DPM-Solver++(2M), the second-order multistep data-prediction solver of Lu et al. 2022
 * (DPM-Solver++, Algorithm 2), in the sigma form of k-diffusion's sample_dpmpp_2m.
 */
export const sampleDpmSolverPlusPlus2M: Sampler<SigmaSpacingOptions> = async (options) =>
  runSigmaSampler(options, (x, { sigma, sigmaNext, sigmaLast, timestep }, previousDenoised) => {
    // 1. D(x; sigma), the data prediction x0_theta
    const { denoised } = denoiseAtSigma(options, x, sigma, timestep);
    // 2. last step: lambda = -log sigma goes to infinity and x_next = D(x; sigma)
    if (sigmaNext === 0) return { x: denoised, predictedX0: denoised };
    // 3. h = lambda_next - lambda with lambda = -log sigma (the half log-SNR of the VE view)
    const h = Math.log(sigma) - Math.log(sigmaNext);
    // 4. second-order data estimate D = (1 + 1/(2r)) D_i - 1/(2r) D_{i-1}, r = h_last / h (Algorithm 2)
    let estimate = denoised;
    if (previousDenoised) {
      const ratio = (Math.log(sigmaLast) - Math.log(sigma)) / h;
      estimate = tf.sub(tf.mul(1 + 1 / (2 * ratio), denoised), tf.mul(1 / (2 * ratio), previousDenoised));
    }
    // 5. x_next = (sigma_next / sigma) x - expm1(-h) D, the exact exponential-integrator step
    return { x: tf.sub(tf.mul(sigmaNext / sigma, x), tf.mul(Math.expm1(-h), estimate)), predictedX0: denoised };
  });
