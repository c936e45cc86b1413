import * as tf from '@tensorflow/tfjs-core';
import type { PredictionKind } from './diffusion-model.js';

/** alphaBar as a number (one step for the whole batch) or a tensor broadcastable against x. */
export type AlphaBar = number | tf.Tensor;

/**
 * Converts a network prediction into (predicted x0, epsilon) at noise level alphaBar.
 * x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps (eq. 4 of DDPM); v = sqrt(aBar) eps - sqrt(1 - aBar) x0
 * (Salimans & Ho 2022, section 4). Call inside tf.tidy.
 */
export function toX0AndEpsilon(kind: PredictionKind, prediction: tf.Tensor, x: tf.Tensor, alphaBar: AlphaBar): { x0: tf.Tensor; epsilon: tf.Tensor } {
  const sqrtAlphaBar = typeof alphaBar === 'number' ? Math.sqrt(alphaBar) : tf.sqrt(alphaBar);
  const sqrtOneMinus = typeof alphaBar === 'number' ? Math.sqrt(1 - alphaBar) : tf.sqrt(tf.sub(1, alphaBar));
  switch (kind) {
    case 'epsilon':
      // 1. x0 = (x_t - sqrt(1 - aBar) eps) / sqrt(aBar), eq. 15 of DDPM
      return { x0: tf.div(tf.sub(x, tf.mul(sqrtOneMinus, prediction)), sqrtAlphaBar), epsilon: prediction };
    case 'x0':
      // 1. eps = (x_t - sqrt(aBar) x0) / sqrt(1 - aBar)
      return { x0: prediction, epsilon: tf.div(tf.sub(x, tf.mul(sqrtAlphaBar, prediction)), sqrtOneMinus) };
    case 'v':
      // 1. x0 = sqrt(aBar) x_t - sqrt(1 - aBar) v; eps = sqrt(1 - aBar) x_t + sqrt(aBar) v
      return {
        x0: tf.sub(tf.mul(sqrtAlphaBar, x), tf.mul(sqrtOneMinus, prediction)),
        epsilon: tf.add(tf.mul(sqrtOneMinus, x), tf.mul(sqrtAlphaBar, prediction)),
      };
  }
}

/** The inverse of `toX0AndEpsilon`: the target a network of this kind should predict. */
export function predictionTarget(kind: PredictionKind, x0: tf.Tensor, epsilon: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  switch (kind) {
    case 'epsilon':
      return epsilon;
    case 'x0':
      return x0;
    case 'v': {
      const sqrtAlphaBar = typeof alphaBar === 'number' ? Math.sqrt(alphaBar) : tf.sqrt(alphaBar);
      const sqrtOneMinus = typeof alphaBar === 'number' ? Math.sqrt(1 - alphaBar) : tf.sqrt(tf.sub(1, alphaBar));
      return tf.sub(tf.mul(sqrtAlphaBar, epsilon), tf.mul(sqrtOneMinus, x0));
    }
  }
}

/**
 * Gathers one float64 schedule value per sample and returns it as float32 [batch, 1, ..., 1]
 * (rank `rank`), ready to broadcast against x. The value is read on the host, so it is exact.
 */
export function perSampleValues(values: Float64Array, indices: ArrayLike<number>, rank: number): tf.Tensor {
  const gathered = new Float32Array(indices.length);
  for (let sample = 0; sample < indices.length; sample += 1) {
    gathered[sample] = values[indices[sample] as number] as number;
  }
  return tf.tensor(gathered, [indices.length, ...new Array<number>(Math.max(0, rank - 1)).fill(1)]);
}
