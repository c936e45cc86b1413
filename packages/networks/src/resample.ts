import * as tf from '@tensorflow/tfjs-core';
import { applyConv2d, isRecordingGradients } from './layer-ops.js';
import type { ParameterStore } from './parameter-store.js';

/**
 * Nearest-neighbour 2x upsampling on NHWC (PyTorch F.interpolate(scale_factor=2, mode='nearest')):
 * without a tape, one ResizeNearestNeighbor kernel (output pixel (i, j) copies input (i / 2, j / 2),
 * rounded down: the same values); under a tape, concat and reshape, whose gradients exist on every
 * backend.
 */
export function upsampleNearest(x: tf.Tensor4D): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  if (!isRecordingGradients()) return tf.image.resizeNearestNeighbor(x, [2 * height, 2 * width], false, false);
  // 1. repeat each column: [B, H, W, 1, C] twice along axis 3 -> [B, H, 2W, C]
  const columns = tf.reshape(x, [batch, height, width, 1, channels]);
  const wide = tf.reshape(tf.concat([columns, columns], 3), [batch, height, 1, 2 * width * channels]);
  // 2. repeat each row: [B, H, 1, 2WC] twice along axis 2 -> [B, 2H, 2W, C]
  return tf.reshape(tf.concat([wide, wide], 2), [batch, 2 * height, 2 * width, channels]);
}

/** 2x2 average pooling with stride 2 on NHWC (ADM's Downsample without a convolution). */
export function downsampleAverage(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, 'valid');
}

export interface ResampleLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

/** ADM's Upsample (after DDPM): nearest 2x, then a 3x3 conv `conv` when `useConv`. */
export function createUpsample(store: ParameterStore, channels: number, useConv: boolean): ResampleLayer {
  const conv = useConv ? store.conv2d('conv', channels, channels, 3) : null;
  return { apply: (x) => (conv ? applyConv2d(upsampleNearest(x), conv) : upsampleNearest(x)) };
}

/** ADM's Downsample (after DDPM): a 3x3 stride-2 conv `op` (padding 1) when `useConv`, else 2x2 average pooling. */
export function createDownsample(store: ParameterStore, channels: number, useConv: boolean): ResampleLayer {
  const conv = useConv ? store.conv2d('op', channels, channels, 3) : null;
  return { apply: (x) => (conv ? applyConv2d(x, conv, 2) : downsampleAverage(x)) };
}
