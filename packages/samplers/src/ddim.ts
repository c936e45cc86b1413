import * as tf from '@tensorflow/tfjs-core';
import { samplingSteps, type Sampler } from '@tfjs-diffusion/core';
import { evaluateModel } from './model-evaluation.js';
import { assertInRange, runSamplingLoop, standardNormal, validateSamplerOptions } from './sampling-loop.js';

/** Options of `sampleDdim`. */
export interface DdimOptions {
  /** Stochasticity in [0, 1]: 0 is deterministic DDIM, 1 has the DDPM posterior variance. Default 0. */
  readonly eta?: number;
}

/**
 * DDIM sampling, eq. 12 of Song et al. 2021 (Denoising Diffusion Implicit Models), with classifier
 * guidance as an epsilon shift (Dhariwal & Nichol 2021, Algorithm 2). A learned variance is ignored.
 */
export const sampleDdim: Sampler<DdimOptions> = async (options) => {
  const eta = options.eta ?? 0;
  assertInRange(eta, 0, 1, 'eta');
  validateSamplerOptions(options);
  const { schedule, shape, noise } = options;
  return runSamplingLoop(options, {
    steps: samplingSteps(schedule),
    step: (x, { index, timestep }) => {
      const alphaBar = schedule.alphaBars[index] as number;
      // 1. alphaBar_{t-1}, 1 on the last step (clean data)
      const alphaBarPrevious = schedule.alphaBarsPrevious[index] as number;
      // 2. (x0, eps) from the network, guided eps^ = eps - sqrt(1 - aBar) g (ADM Algorithm 2)
      const { x0, epsilon } = evaluateModel(options, x, timestep, alphaBar, 'epsilon-shift');
      // 3. sigma_t = eta sqrt((1 - aBar_{t-1}) / (1 - aBar_t)) sqrt(1 - aBar_t / aBar_{t-1}), eq. 16 of DDIM
      const sigma = eta * Math.sqrt((1 - alphaBarPrevious) / (1 - alphaBar)) * Math.sqrt(Math.max(0, 1 - alphaBar / alphaBarPrevious));
      // 4. x_{t-1} = sqrt(aBar_{t-1}) x0 + sqrt(1 - aBar_{t-1} - sigma^2) eps + sigma z, eq. 12 of DDIM
      const direction = Math.sqrt(Math.max(0, 1 - alphaBarPrevious - sigma * sigma));
      const deterministic = tf.add(tf.mul(Math.sqrt(alphaBarPrevious), x0), tf.mul(direction, epsilon));
      // 5. noise only where sigma > 0 (never on the last step, where aBar_{t-1} = 1 makes sigma 0)
      if (index === 0 || sigma === 0) return { x: deterministic, predictedX0: x0 };
      return { x: tf.add(deterministic, tf.mul(sigma, standardNormal(noise, shape))), predictedX0: x0 };
    },
  });
};
