import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dParameters, DenseParameters, PointwiseParameters } from './parameter-store.js';

/** SiLU / swish, x * sigmoid(x) (Elfwing et al. 2018; Ramachandran et al. 2017). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/** A dense layer x W + b on [batch, in]. */
export function applyDense(x: tf.Tensor2D, parameters: DenseParameters): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: parameters.weight as tf.Tensor2D, bias: parameters.bias }) as tf.Tensor2D;
}

/** Whether a gradient tape is recording (inside tf.grad, tf.variableGrads, optimizer.minimize). */
export function isRecordingGradients(): boolean {
  return ((tf.engine() as unknown as { state: { gradientDepth?: number } }).state.gradientDepth ?? 0) > 0;
}

/**
 * A 2-D convolution on NHWC with PyTorch's symmetric zero padding (kernel - 1) / 2, so weights
 * converted from a PyTorch Conv2d(padding = k // 2) give the same result. Stride 2 pads explicitly
 * uses explicit padding (tfjs 'same' would pad only at the bottom and right). One fused
 * conv + bias kernel (tf.fused.conv2d), whose gradient sums dy for the bias.
 */
export function applyConv2d(x: tf.Tensor4D, parameters: Conv2dParameters, stride = 1): tf.Tensor4D {
  const padding = (parameters.kernelSize - 1) / 2;
  const filter = parameters.weight as tf.Tensor4D;
  const pad =
    padding === 0
      ? 'valid'
      : stride === 1
        ? 'same'
        : ([
            [0, 0],
            [padding, padding],
            [padding, padding],
            [0, 0],
          ] as tf.backend_util.ExplicitPadding);
  // Under a gradient tape, the plain conv2d + bias: the fused op's gradient computes the filter
  // gradient eagerly even for tf.grad with respect to x alone (classifier guidance), which needs
  // Conv2DBackpropFilter, a kernel tfjs-backend-wasm lacks; the plain op computes only what is asked.
  if (isRecordingGradients()) return tf.add(tf.conv2d(x, filter, stride, pad), parameters.bias);
  return tf.fused.conv2d({ x, filter, strides: stride, pad, bias: parameters.bias });
}

/**
 * The fused convolution-with-residual kernel's name. @tfjs-diffusion/backends registers it for cpu and
 * wasm when its native addon loads (inputs x, filter, bias, residual; Conv2D's attributes; output
 * (conv2d(x, filter) + bias) + residual; no gradient).
 */
export const CONV2D_RESIDUAL_KERNEL = 'TfjsDiffusionConv2DResidual';

/**
 * residual + applyConv2d(x, parameters) (stride 1): one kernel where the backend registers
 * CONV2D_RESIDUAL_KERNEL and no gradient is recorded (the sum is added while each output tile is in
 * registers, the same bits as the two ops), tf ops otherwise.
 */
export function applyConv2dResidual(x: tf.Tensor4D, parameters: Conv2dParameters, residual: tf.Tensor4D): tf.Tensor4D {
  if (
    isRecordingGradients() ||
    x.dtype !== 'float32' ||
    residual.dtype !== 'float32' ||
    tf.getKernel(CONV2D_RESIDUAL_KERNEL, tf.getBackend()) === undefined
  ) {
    return tf.add(residual, applyConv2d(x, parameters));
  }
  const padding = (parameters.kernelSize - 1) / 2;
  const inputs = { x, filter: parameters.weight, bias: parameters.bias, residual } as unknown as tf.NamedTensorMap;
  const attributes = { strides: 1, pad: padding === 0 ? 'valid' : 'same', dilations: 1, dataFormat: 'NHWC' };
  return tf.engine().runKernel(CONV2D_RESIDUAL_KERNEL, inputs, attributes as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** A 1x1 conv1d over tokens [batch, length, in] -> [batch, length, out], as one matrix product. */
export function applyPointwise(x: tf.Tensor3D, parameters: PointwiseParameters): tf.Tensor3D {
  const [batch, length, inChannels] = x.shape;
  const outChannels = parameters.weight.shape[2] as number;
  const flat = tf.reshape(x, [batch * length, inChannels]);
  const weight = tf.reshape(parameters.weight, [inChannels, outChannels]);
  return tf.reshape(tf.add(tf.matMul(flat, weight), parameters.bias), [batch, length, outChannels]);
}
