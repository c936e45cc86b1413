import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017, as used by DDPM and improved-diffusion's
 * `timestep_embedding`): half = dim / 2, freqs_i = exp(-ln(maxPeriod) i / half),
 * emb = [cos(t freqs), sin(t freqs)] (cos first); an odd `dimension` gets a zero last column.
 * [batch] -> [batch, dimension]. Call inside tf.tidy.
 */
export function timestepEmbedding(timesteps: tf.Tensor1D, dimension: number, maxPeriod = 10000): tf.Tensor2D {
  if (!Number.isInteger(dimension) || dimension < 2) {
    throw new DiffusionError('invalid-argument', `timestepEmbedding: dimension must be an integer >= 2, got ${dimension}`);
  }
  if (timesteps.rank !== 1) {
    throw new DiffusionError('invalid-shape', `timestepEmbedding: timesteps must be [batch], got [${timesteps.shape.join(', ')}]`);
  }
  const half = Math.floor(dimension / 2);
  // 1. freqs_i = exp(-ln(maxPeriod) * i / half), computed in float64 on the host
  const frequencies = new Float32Array(half);
  for (let index = 0; index < half; index += 1) frequencies[index] = Math.exp((-Math.log(maxPeriod) * index) / half);
  // 2. args = t[:, None] * freqs[None, :]
  const args = tf.mul(tf.reshape(tf.cast(timesteps, 'float32'), [-1, 1]), tf.tensor2d(frequencies, [1, half]));
  // 3. emb = [cos(args), sin(args)]
  const parts = [tf.cos(args), tf.sin(args)] as tf.Tensor2D[];
  if (dimension % 2 === 1) parts.push(tf.zeros([timesteps.shape[0], 1]));
  return tf.concat(parts, 1);
}
