import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import { isRecordingGradients, silu } from './layer-ops.js';
import type { GroupNormParameters } from './parameter-store.js';

/** GroupNorm's epsilon, as PyTorch nn.GroupNorm and ADM use. */
export const GROUP_NORM_EPSILON = 1e-5;

/**
 * The fused GroupNorm kernel's name. @tfjs-diffusion/backends registers it (and its gradient) for cpu
 * and wasm when its native addon loads (inputs x [B, H, W, C], gamma and beta [C] or [B, C];
 * attributes groups, epsilon, activation 'linear' | 'silu'; output act(GroupNorm(x) * gamma + beta)).
 */
export const GROUP_NORM_KERNEL = 'TfjsDiffusionGroupNorm';

/** The activation that may follow a normalisation: none, or SiLU (x sigmoid(x)). */
export type NormActivation = 'linear' | 'silu';

/**
 * Whether `x` can go through the fused kernel: x is float32 NHWC, the active backend registers the
 * kernel, and, when a gradient is recorded, its gradient is registered too (@tfjs-diffusion/backends
 * registers both; without a gradient the tf ops below are used under a tape).
 */
export function canFuseGroupNorm(x: tf.Tensor): boolean {
  return (
    x.dtype === 'float32' &&
    x.rank === 4 &&
    tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()) !== undefined &&
    (!isRecordingGradients() || tf.getGradient(GROUP_NORM_KERNEL) !== undefined)
  );
}

/**
 * act(GroupNorm(x) * gamma + beta) in one kernel (only where `canFuseGroupNorm(x)`); gamma, beta [C]
 * or [B, C]. With `scaleShift` [B, 2C] (AdaGN; gamma and beta [C]; no gradient: only without a tape)
 * the coefficients are gamma (1 + scale) and beta (1 + scale) + shift.
 */
export function fusedGroupNorm(
  x: tf.Tensor4D,
  groups: number,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  activation: NormActivation,
  epsilon = GROUP_NORM_EPSILON,
  scaleShift?: tf.Tensor2D,
): tf.Tensor4D {
  const channels = x.shape[3];
  if (channels % groups !== 0) {
    throw new DiffusionError('invalid-argument', `groupNorm: ${groups} groups must divide ${channels} channels`);
  }
  const inputs = (scaleShift === undefined ? { x, gamma, beta } : { x, gamma, beta, scaleShift }) as unknown as tf.NamedTensorMap;
  return tf.engine().runKernel(GROUP_NORM_KERNEL, inputs, { groups, epsilon, activation }) as tf.Tensor4D;
}

/**
 * Per-sample, per-channel coefficients of group normalization (Wu & He 2018) on NHWC x
 * [B, H, W, C]: normalized = x * scale + offset with scale = 1 / sqrt(var_g + eps) and
 * offset = -mean_g / sqrt(var_g + eps), both [B, C], for the group g of each channel. The
 * statistics come from two reductions over H and W ([B, C] sums of x and x^2), so the
 * normalisation itself is one multiply and one add over the full tensor (the affine and AdaGN
 * parameters fold into the small coefficients). Call inside tf.tidy.
 */
export function groupNormCoefficients(x: tf.Tensor4D, groups: number, epsilon = GROUP_NORM_EPSILON): { scale: tf.Tensor2D; offset: tf.Tensor2D } {
  const [batch, height, width, channels] = x.shape;
  if (channels % groups !== 0) {
    throw new DiffusionError('invalid-argument', `groupNorm: ${groups} groups must divide ${channels} channels`);
  }
  const perGroup = channels / groups;
  const count = height * width * perGroup;
  // 1. per-channel sums of x and x^2 over H, W: [B, C], as products with a row of ones (about
  //    twice as fast as a Sum over a middle axis on wasm)
  const pixels = tf.reshape(x, [batch, height * width, channels]);
  const row = tf.ones([batch, 1, height * width]);
  const sums = tf.reshape(tf.matMul(row, pixels), [batch, channels]);
  const squares = tf.reshape(tf.matMul(row, tf.square(pixels)), [batch, channels]);
  // 2. per-group mean and biased variance E[x^2] - E[x]^2 (clamped at 0): [B, G, 1]
  const mean = tf.div(tf.sum(tf.reshape(sums, [batch, groups, perGroup]), 2, true), count);
  const meanSquare = tf.div(tf.sum(tf.reshape(squares, [batch, groups, perGroup]), 2, true), count);
  const variance = tf.relu(tf.sub(meanSquare, tf.square(mean)));
  // 3. scale = 1 / sqrt(var + eps), offset = -mean * scale, broadcast to the group's channels
  const inverse = tf.rsqrt(tf.add(variance, epsilon));
  const ones = tf.ones([1, 1, perGroup]);
  return {
    scale: tf.reshape(tf.mul(inverse, ones), [batch, channels]),
    offset: tf.reshape(tf.mul(tf.neg(tf.mul(mean, inverse)), ones), [batch, channels]),
  };
}

/** x * scale + offset with per-sample, per-channel [B, C] coefficients on NHWC x. */
export function scaleAndShift(x: tf.Tensor4D, scale: tf.Tensor2D, offset: tf.Tensor2D): tf.Tensor4D {
  const [batch, , , channels] = x.shape;
  return tf.add(tf.mul(x, tf.reshape(scale, [batch, 1, 1, channels])), tf.reshape(offset, [batch, 1, 1, channels]));
}

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
  const { scale, offset } = groupNormCoefficients(x, groups, epsilon);
  if (!parameters) return scaleAndShift(x, scale, offset);
  // gamma (x - mean) / sd + beta = x (gamma scale) + (gamma offset + beta)
  return scaleAndShift(x, tf.mul(scale, parameters.weight), tf.add(tf.mul(offset, parameters.weight), parameters.bias));
}

/**
 * GroupNorm with its learned affine parameters, as ADM's `normalization(channels)`, then
 * `activation` (SiLU: ADM's `normalization` followed by `SiLU()`); one fused kernel where
 * `canFuseGroupNorm(x)`, else tf ops.
 */
export function applyGroupNorm(x: tf.Tensor4D, parameters: GroupNormParameters, activation: NormActivation = 'linear'): tf.Tensor4D {
  if (canFuseGroupNorm(x)) return fusedGroupNorm(x, parameters.groups, parameters.weight, parameters.bias, activation);
  const normalized = groupNorm(x, parameters.groups, parameters);
  return activation === 'silu' ? silu(normalized) : normalized;
}
