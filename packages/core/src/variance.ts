import * as tf from '@tensorflow/tfjs-core';
import type { VarianceKind } from './diffusion-model.js';
import { DiffusionError } from './errors.js';
import type { NoiseSchedule } from './noise-schedule.js';

/** log of the fixed-large variance: beta_i, with betaTilde_1 at i = 0 (improved-diffusion's choice). */
export function fixedLargeLogVariance(schedule: NoiseSchedule, index: number): number {
  if (index === 0) {
    const stand = schedule.posteriorVariances.length > 1 ? schedule.posteriorVariances[1] : schedule.betas[0];
    return Math.log(stand as number);
  }
  return Math.log(schedule.betas[index] as number);
}

/**
 * The reverse-process log variance log Sigma at schedule steps `indices`, as float32 broadcastable
 * against x (rank `rank`). Fixed kinds give [batch, 1, ..., 1]; learned-range gives x's shape:
 * log Sigma = frac log beta_t + (1 - frac) log betaTilde_t, frac = (v + 1) / 2 (eq. 15 of Improved DDPM).
 * Call inside tf.tidy.
 */
export function reverseLogVariance(
  kind: VarianceKind,
  schedule: NoiseSchedule,
  indices: ArrayLike<number>,
  rank: number,
  varianceValues?: tf.Tensor,
): tf.Tensor {
  const batch = indices.length;
  const shape = [batch, ...new Array<number>(Math.max(0, rank - 1)).fill(1)];
  const fromHost = (value: (index: number) => number): tf.Tensor => {
    const values = new Float32Array(batch);
    for (let sample = 0; sample < batch; sample += 1) values[sample] = value(indices[sample] as number);
    return tf.tensor(values, shape);
  };
  switch (kind) {
    case 'fixed-small':
      return fromHost((index) => schedule.posteriorLogVariancesClipped[index] as number);
    case 'fixed-large':
      return fromHost((index) => fixedLargeLogVariance(schedule, index));
    case 'learned-range': {
      if (!varianceValues) {
        throw new DiffusionError('invalid-argument', "a 'learned-range' model must return varianceValues with its prediction");
      }
      const minLog = fromHost((index) => schedule.posteriorLogVariancesClipped[index] as number);
      const maxLog = fromHost((index) => Math.log(schedule.betas[index] as number));
      // 1. frac = (v + 1) / 2, v in [-1, 1] from the network
      const fraction = tf.div(tf.add(varianceValues, 1), 2);
      // 2. log Sigma = frac log beta + (1 - frac) log betaTilde, eq. 15 of Improved DDPM
      return tf.add(tf.mul(fraction, maxLog), tf.mul(tf.sub(1, fraction), minLog));
    }
  }
}
