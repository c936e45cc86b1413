import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { GroupNormParameters } from './parameter-store.js';

/** GroupNorm's epsilon, as PyTorch nn.GroupNorm and ADM use. */
export const GROUP_NORM_EPSILON = 1e-5;

/**
 * Group normalization (Wu & He 2018) on NHWC: channels are split into `groups`, each normalised
 * over (H, W, channels of the group) with the biased variance, then scaled by gamma and shifted by
 * beta when `parameters` are given. Call inside tf.tidy.
 */
export function groupNorm(
  x: tf.Tensor4D,
  groups: number,
  parameters?: { readonly weight: tf.Tensor; readonly bias: tf.Tensor },
  epsilon = GROUP_NORM_EPSILON,
): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  if (channels % groups !== 0) {
    throw new DiffusionError('invalid-argument', `groupNorm: ${groups} groups must divide ${channels} channels`);
  }
  // 1. [B, H, W, G, C/G]; mean and variance over H, W and the channels of each group
  const grouped = tf.reshape(x, [batch, height, width, groups, channels / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  // 2. (x - mean) / sqrt(var + eps)
  const normalized = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon))), [
    batch,
    height,
    width,
    channels,
  ]) as tf.Tensor4D;
  if (!parameters) return normalized;
  // 3. per-channel affine gamma * x + beta
  return tf.add(tf.mul(normalized, parameters.weight), parameters.bias);
}

/** GroupNorm with its learned affine parameters, as ADM's `normalization(channels)`. */
export function applyGroupNorm(x: tf.Tensor4D, parameters: GroupNormParameters): tf.Tensor4D {
  return groupNorm(x, parameters.groups, parameters);
}
