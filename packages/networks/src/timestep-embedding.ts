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
  if (DEVICE_EMBEDDING_BACKENDS.has(tf.getBackend())) return deviceTimestepEmbedding(timesteps, dimension, maxPeriod, scale);
  const values = timestepEmbeddingValues(timesteps.dataSync() as ArrayLike<number>, dimension, maxPeriod, scale);
  return tf.tensor2d(values, [timesteps.shape[0], dimension], 'float32');
}

/** Backends whose synchronous reads are missing (webgpu in Node) or stall the GPU: they embed on the device. */
const DEVICE_EMBEDDING_BACKENDS = new Set(['webgpu', 'webgl']);

// 2 pi split for Cody-Waite range reduction: TWO_PI_HIGH has 12 significant bits, so k * TWO_PI_HIGH is
// exact in float32 for |k| < 2^11 (t * freq up to ~12,800, i.e. t up to 10^4 at freq 1).
const TWO_PI_HIGH = 6.28125;
const TWO_PI_LOW = 2 * Math.PI - TWO_PI_HIGH;

/**
 * The same embedding on the device, for backends without synchronous reads: the arguments t * freqs
 * are reduced to [-pi, pi] with a Cody-Waite split of 2 pi, then sin and cos come from Taylor series
 * at half the angle and the double-angle formulas, never from the backend's sin/cos (WGSL's on
 * SwiftShader are off by up to ~2e-4 even on [-pi, pi], e.g. cos(0.1)). Within ~1e-6 of
 * `timestepEmbeddingValues`.
 */
export function deviceTimestepEmbedding(timesteps: tf.Tensor1D, dimension: number, maxPeriod: number, scale: number): tf.Tensor2D {
  return tf.tidy(() => {
    const half = Math.floor(dimension / 2);
    const frequencies = new Float32Array(half);
    const logPeriod = Math.fround(-Math.log(maxPeriod));
    for (let index = 0; index < half; index += 1) frequencies[index] = Math.exp(Math.fround(Math.fround(logPeriod * index) / half));
    // 1. args = (t * scale)[:, None] * freqs[None, :]
    const floatTimes = tf.cast(timesteps, 'float32');
    const time = scale === 1 ? floatTimes : tf.mul(floatTimes, Math.fround(scale));
    const argumentsTable = tf.mul(tf.reshape(time, [-1, 1]), tf.tensor2d(frequencies, [1, half]));
    // 2. r = args - k (2 pi), k = round(args / 2 pi), with 2 pi = high + low (Cody-Waite)
    const turns = tf.round(tf.div(argumentsTable, 2 * Math.PI));
    const reduced = tf.sub(tf.sub(argumentsTable, tf.mul(turns, TWO_PI_HIGH)), tf.mul(turns, TWO_PI_LOW));
    // 3. h = r / 2 in [-pi/2, pi/2]: sin h = h (1 - h^2/(2*3) (1 - h^2/(4*5) (...))) to h^13 and
    //    cos h = 1 - h^2/(1*2) (1 - h^2/(3*4) (...)) to h^14 (truncation < 1e-9 there)
    const halfAngle = tf.mul(reduced, 0.5);
    const halfSquared = tf.square(halfAngle);
    const sineHalf = tf.mul(halfAngle, nestedTaylorSeries(halfSquared, [2 * 3, 4 * 5, 6 * 7, 8 * 9, 10 * 11, 12 * 13]));
    const cosineHalf = nestedTaylorSeries(halfSquared, [1 * 2, 3 * 4, 5 * 6, 7 * 8, 9 * 10, 11 * 12, 13 * 14]);
    // 4. cos r = cos^2 h - sin^2 h, sin r = 2 sin h cos h; emb = [cos r, sin r], zero column for an odd dimension
    const parts = [tf.sub(tf.square(cosineHalf), tf.square(sineHalf)), tf.mul(tf.mul(sineHalf, cosineHalf), 2)];
    if (dimension % 2 === 1) parts.push(tf.zeros([timesteps.shape[0], 1]));
    return tf.concat(parts, 1) as tf.Tensor2D;
  });
}

/** 1 - x/d_1 (1 - x/d_2 (... (1 - x/d_n))), Horner's form of the sine and cosine Taylor series. */
function nestedTaylorSeries(squared: tf.Tensor, denominators: readonly number[]): tf.Tensor {
  let value: tf.Tensor = tf.onesLike(squared);
  for (let index = denominators.length - 1; index >= 0; index -= 1) {
    value = tf.sub(1, tf.mul(tf.mul(squared, 1 / (denominators[index] as number)), value));
  }
  return value;
}
