import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * The sinusoidal embedding table on the host (Vaswani et al. 2017, as DDPM and ADM's
 * `timestep_embedding`), rounded like PyTorch's float32 arithmetic: freqs_i =
 * f32(exp(f32(f32(-ln(maxPeriod)) i) / half)), args = f32(t f32(scale) freqs_i), then cos and sin
 * in float64 rounded once to float32. Row-major [timesteps.length, dimension], cos first; an odd
 * dimension gets a zero last column. Backends' own sin/cos (WGSL is off by ~2e-4 near t = 1000)
 * are never used.
 */
export function timestepEmbeddingValues(timesteps: ArrayLike<number>, dimension: number, maxPeriod = 10000, scale = 1): Float32Array {
  const half = Math.floor(dimension / 2);
  // 1. freqs_i = exp(-ln(maxPeriod) * i / half), each operation rounded to float32 as PyTorch does
  const logPeriod = Math.fround(-Math.log(maxPeriod));
  const frequencies = new Float64Array(half);
  for (let index = 0; index < half; index += 1) {
    frequencies[index] = Math.fround(Math.exp(Math.fround(Math.fround(logPeriod * index) / half)));
  }
  const scaleF32 = Math.fround(scale);
  const values = new Float32Array(timesteps.length * dimension);
  for (let row = 0; row < timesteps.length; row += 1) {
    // 2. t * scale (improved-diffusion's rescale_timesteps), then args = t[:, None] * freqs[None, :]
    const time = scale === 1 ? Math.fround(timesteps[row] as number) : Math.fround(Math.fround(timesteps[row] as number) * scaleF32);
    for (let index = 0; index < half; index += 1) {
      const argument = Math.fround(time * (frequencies[index] as number));
      // 3. emb = [cos(args), sin(args)]
      values[row * dimension + index] = Math.cos(argument);
      values[row * dimension + half + index] = Math.sin(argument);
    }
  }
  return values;
}

/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017, as used by DDPM and improved-diffusion's
 * `timestep_embedding`): half = dim / 2, freqs_i = exp(-ln(maxPeriod) i / half),
 * emb = [cos(t scale freqs), sin(t scale freqs)] (cos first); an odd `dimension` gets a zero last
 * column. [batch] -> [batch, dimension], computed on the host (`timestepEmbeddingValues`): the
 * timesteps are read back synchronously (a few numbers). Call inside tf.tidy.
 */
export function timestepEmbedding(timesteps: tf.Tensor1D, dimension: number, maxPeriod = 10000, scale = 1): tf.Tensor2D {
  if (!Number.isInteger(dimension) || dimension < 2) {
    throw new DiffusionError('invalid-argument', `timestepEmbedding: dimension must be an integer >= 2, got ${dimension}`);
  }
  if (timesteps.rank !== 1) {
    throw new DiffusionError('invalid-shape', `timestepEmbedding: timesteps must be [batch], got [${timesteps.shape.join(', ')}]`);
  }
  const values = timestepEmbeddingValues(timesteps.dataSync() as ArrayLike<number>, dimension, maxPeriod, scale);
  return tf.tensor2d(values, [timesteps.shape[0], dimension], 'float32');
}
