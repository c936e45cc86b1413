import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type Objective, type ObjectiveInput, type ObjectiveResult } from '@tfjs-diffusion/core';
import { drawTrainingBatch, predictOnNoisyData, weightedMean } from './training-batch.js';
import { vlbTerms } from './vlb-terms.js';

export interface KlObjectiveOptions {
  /**
   * Multiply each sampled term L_t by N, the schedule's steps (default true): N L_t is an unbiased
   * estimate of L_0 + ... + L_{N-1}, improved-diffusion's RESCALED_KL (what its `use_kl` trains).
   * false gives the plain mean term (its KL loss), N times smaller.
   */
  readonly rescaled?: boolean;
}

/**
 * L_vlb, the variational bound itself (DDPM, Ho et al. 2020, eq. 5; Improved DDPM section 3.1), in
 * bits/dim, with gradients through the mean and the variance (no stop-gradient). The constant prior
 * L_T is left out.
 */
export function createKlObjective(options: KlObjectiveOptions = {}): Objective {
  const rescaled = options.rescaled ?? true;
  if (typeof rescaled !== 'boolean') {
    throw new DiffusionError('invalid-argument', `kl objective: rescaled must be true or false, got ${JSON.stringify(rescaled)}`);
  }
  return {
    name: 'kl',
    compute(input: ObjectiveInput): ObjectiveResult {
      const { model, schedule } = input;
      const draws = drawTrainingBatch(input, 'kl');
      const tensors = tf.tidy(() => {
        const { xt, output } = predictOnNoisyData(input, draws);
        // 1. L_t per sample in bits/dim (KL for t > 0, the decoder at t = 0), eq. 5 of DDPM
        const vb = vlbTerms({ model, schedule, x0: input.x0, xt, indices: draws.indices, output }).bits;
        // 2. N L_t estimates the sum over the N steps
        const perSampleLoss = (rescaled ? tf.mul(schedule.timesteps.length, vb) : vb) as tf.Tensor1D;
        const loss = weightedMean(draws.weights, perSampleLoss);
        return { loss, perSampleLoss, vlb: tf.clone(loss) };
      });
      return { loss: tensors.loss, perSampleLoss: tensors.perSampleLoss, indices: draws.indices, terms: { vlb: tensors.vlb } };
    },
  };
}
