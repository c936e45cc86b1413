import * as tf from '@tensorflow/tfjs-core';
import { GROUP_NORM_EPSILON, canFuseGroupNorm, fusedGroupNorm, groupNormCoefficients, scaleAndShift, type NormActivation } from './group-norm.js';
import { isRecordingGradients, silu } from './layer-ops.js';
import type { GroupNormParameters } from './parameter-store.js';

/**
 * Adaptive group normalization, AdaGN (Dhariwal & Nichol 2021, section 3; ADM's
 * use_scale_shift_norm): h = GroupNorm(h) * (1 + scale) + shift, with `scaleShift` [batch, 2C]
 * from a linear layer on SiLU(embedding), scale its first half and shift its second.
 * GroupNorm's affine and the scale-shift fold into [batch, C] coefficients, so the full tensor
 * sees one multiply and one add; `activation` 'silu' applies SiLU after it. Where
 * `canFuseGroupNorm(x)`, all of it is one fused kernel. Call inside tf.tidy.
 */
export function adaptiveGroupNorm(
  x: tf.Tensor4D,
  parameters: GroupNormParameters,
  scaleShift: tf.Tensor2D,
  activation: NormActivation = 'linear',
): tf.Tensor4D {
  const [batch, , , channels] = x.shape;
  // Without a tape, the fused kernel takes scaleShift itself (one kernel, not six small ones).
  if (canFuseGroupNorm(x) && !isRecordingGradients()) {
    return fusedGroupNorm(x, parameters.groups, parameters.weight, parameters.bias, activation, GROUP_NORM_EPSILON, scaleShift);
  }
  const factor = tf.add(tf.slice(scaleShift, [0, 0], [batch, channels]), 1);
  const shift = tf.slice(scaleShift, [0, channels], [batch, channels]);
  // ((x scale + offset) gamma + beta) (1 + s) + shift = GN(x) gamma (1 + s) + (beta (1 + s) + shift)
  const gamma = tf.mul(parameters.weight, factor);
  if (canFuseGroupNorm(x)) {
    return fusedGroupNorm(x, parameters.groups, gamma, tf.add(tf.mul(parameters.bias, factor), shift), activation);
  }
  const { scale, offset } = groupNormCoefficients(x, parameters.groups);
  const normalized = scaleAndShift(
    x,
    tf.mul(scale, gamma),
    tf.add(tf.mul(tf.add(tf.mul(offset, parameters.weight), parameters.bias), factor), shift),
  );
  return activation === 'silu' ? silu(normalized) : normalized;
}
