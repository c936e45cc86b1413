import * as tf from '@tensorflow/tfjs-core';
import type { Sampler } from '@tfjs-diffusion/core';
import { assertInRange, standardNormal } from './sampling-loop.js';
import { denoiseAtSigma, runSigmaSampler, type SigmaSpacingOptions } from './sigma-space.js';

/** Options of `sampleEulerAncestral`. */
export interface EulerAncestralOptions extends SigmaSpacingOptions {
  /** Share of each step's noise that is re-drawn, in [0, 1]: 1 (default) is ancestral, 0 is plain Euler. */
  readonly eta?: number;
}

/**
 * Euler ancestral sampling: an Euler step down to sigma_down, then fresh noise of size sigma_up
 * (k-diffusion's sample_euler_ancestral, Crowson 2022, the ancestral step of DDPM, Ho et al. 2020,
 * in the sigma parameterisation of Karras et al. 2022).
 */
export const sampleEulerAncestral: Sampler<EulerAncestralOptions> = async (options) => {
  const eta = options.eta ?? 1;
  assertInRange(eta, 0, 1, 'eta');
  const { noise, shape } = options;
  return runSigmaSampler(options, (x, { sigma, sigmaNext, timestep }) => {
    // 1. D(x; sigma) and d = (x - D) / sigma
    const { denoised, derivative } = denoiseAtSigma(options, x, sigma, timestep);
    if (sigmaNext === 0) return { x: denoised, predictedX0: denoised };
    // 2. sigma_up = min(sigma_next, eta sqrt(sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2)),
    //    sigma_down = sqrt(sigma_next^2 - sigma_up^2) (k-diffusion get_ancestral_step)
    const sigmaUp = Math.min(sigmaNext, eta * Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2));
    const sigmaDown = Math.sqrt(Math.max(0, sigmaNext ** 2 - sigmaUp ** 2));
    // 3. Euler step to sigma_down: x + (sigma_down - sigma) d
    const stepped = tf.add(x, tf.mul(sigmaDown - sigma, derivative));
    // 4. add noise back up to sigma_next: x + sigma_up z
    if (sigmaUp === 0) return { x: stepped, predictedX0: denoised };
    return { x: tf.add(stepped, tf.mul(sigmaUp, standardNormal(noise, shape))), predictedX0: denoised };
  });
};
