import * as tf from '@tensorflow/tfjs-core';
import { applyGroupNorm } from './group-norm.js';
import type { GroupNormParameters } from './parameter-store.js';

/**
 * Adaptive group normalization, AdaGN (Dhariwal & Nichol 2021, section 3; ADM's
 * use_scale_shift_norm): h = GroupNorm(h) * (1 + scale) + shift, with `scaleShift` [batch, 2C]
 * from a linear layer on SiLU(embedding), scale its first half and shift its second.
 * Call inside tf.tidy.
 */
export function adaptiveGroupNorm(x: tf.Tensor4D, parameters: GroupNormParameters, scaleShift: tf.Tensor2D): tf.Tensor4D {
  const [batch, , , channels] = x.shape;
  const [scale, shift] = tf.split(tf.reshape(scaleShift, [batch, 1, 1, 2 * channels]), 2, 3) as [tf.Tensor4D, tf.Tensor4D];
  return tf.add(tf.mul(applyGroupNorm(x, parameters), tf.add(scale, 1)), shift);
}
