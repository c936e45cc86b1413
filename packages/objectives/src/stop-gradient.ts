import * as tf from '@tensorflow/tfjs-core';

const stop = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (upstream: tf.Tensor) => tf.zerosLike(upstream),
}));

/**
 * The identity with a zero gradient (PyTorch's `detach`, TensorFlow's `stop_gradient`), as used for
 * improved-diffusion's `frozen_out` in L_hybrid (Improved DDPM, section 3.1).
 */
export function stopGradient<T extends tf.Tensor>(value: T): T {
  return stop(value) as T;
}
