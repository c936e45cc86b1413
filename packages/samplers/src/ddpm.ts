import * as tf from '@tensorflow/tfjs-core';
import { reverseLogVariance, samplingSteps, type Sampler } from '@tfjs-diffusion/core';
import { evaluateModel } from './model-evaluation.js';
import { runSamplingLoop, standardNormal, validateSamplerOptions } from './sampling-loop.js';

/**
 * Ancestral sampling, DDPM Algorithm 2 (Ho et al. 2020) as improved-diffusion's p_sample: fixed-small,
 * fixed-large or learned-range variances (Nichol & Dhariwal 2021) and classifier guidance as a
 * mean shift (Dhariwal & Nichol 2021, Algorithm 1).
 */
export const sampleDdpm: Sampler = async (options) => {
  validateSamplerOptions(options);
  const { model, schedule, shape, noise } = options;
  const batch = shape[0] as number;
  return runSamplingLoop(options, {
    steps: samplingSteps(schedule),
    step: (x, { index, timestep }) => {
      // 1. (x0, eps) from the network at alphaBar_i; the guidance gradient is kept apart
      const { x0, varianceValues, guidanceGradient } = evaluateModel(options, x, timestep, schedule.alphaBars[index] as number, 'separate');
      // 2. posterior mean mu~(x_t, x0) = coef1 x0 + coef2 x_t, eq. 7 of DDPM
      let mean = tf.add(
        tf.mul(schedule.posteriorMeanCoefficientsX0[index] as number, x0),
        tf.mul(schedule.posteriorMeanCoefficientsXt[index] as number, x),
      );
      // 3. log Sigma: betaTilde, beta, or eq. 15 of Improved DDPM for learned-range
      const indices = new Array<number>(batch).fill(index);
      const logVariance = reverseLogVariance(model.variance, schedule, indices, shape.length, varianceValues);
      // 4. classifier guidance: mu + Sigma g, Algorithm 1 of Dhariwal & Nichol
      if (guidanceGradient) mean = tf.add(mean, tf.mul(tf.exp(logVariance), guidanceGradient));
      // 5. x_{t-1} = mu + exp(log Sigma / 2) z, line 4 of DDPM Algorithm 2; no z on the last step
      if (index === 0) return { x: mean, predictedX0: x0 };
      const z = standardNormal(noise, shape);
      return { x: tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVariance)), z)), predictedX0: x0 };
    },
  });
};
