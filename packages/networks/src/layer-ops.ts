import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dParameters, DenseParameters, PointwiseParameters } from './parameter-store.js';

/** SiLU / swish, x * sigmoid(x) (Elfwing et al. 2018; Ramachandran et al. 2017). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/** A dense layer x W + b on [batch, in]. */
export function applyDense(x: tf.Tensor2D, parameters: DenseParameters): tf.Tensor2D {
  return tf.add(tf.matMul(x, parameters.weight as tf.Tensor2D), parameters.bias);
}

/**
 * A 2-D convolution on NHWC with PyTorch's symmetric zero padding (kernel - 1) / 2, so weights
 * converted from a PyTorch Conv2d(padding = k // 2) give the same result. Stride 2 pads explicitly
 * and convolves 'valid' (tfjs 'same' would pad only at the bottom and right).
 */
export function applyConv2d(x: tf.Tensor4D, parameters: Conv2dParameters, stride = 1): tf.Tensor4D {
  const padding = (parameters.kernelSize - 1) / 2;
  const filter = parameters.weight as tf.Tensor4D;
  let output: tf.Tensor4D;
  if (padding === 0) {
    output = tf.conv2d(x, filter, stride, 'valid');
  } else if (stride === 1) {
    output = tf.conv2d(x, filter, 1, 'same');
  } else {
    const padded = tf.pad(x, [
      [0, 0],
      [padding, padding],
      [padding, padding],
      [0, 0],
    ]);
    output = tf.conv2d(padded, filter, stride, 'valid');
  }
  return tf.add(output, parameters.bias);
}

/** A 1x1 conv1d over tokens [batch, length, in] -> [batch, length, out], as one matrix product. */
export function applyPointwise(x: tf.Tensor3D, parameters: PointwiseParameters): tf.Tensor3D {
  const [batch, length, inChannels] = x.shape;
  const outChannels = parameters.weight.shape[2] as number;
  const flat = tf.reshape(x, [batch * length, inChannels]);
  const weight = tf.reshape(parameters.weight, [inChannels, outChannels]);
  return tf.reshape(tf.add(tf.matMul(flat, weight), parameters.bias), [batch, length, outChannels]);
}
