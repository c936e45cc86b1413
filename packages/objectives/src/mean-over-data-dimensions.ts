import * as tf from '@tensorflow/tfjs-core';

/** The mean over every axis but the batch axis (improved-diffusion's `mean_flat`): [batch, ...] -> [batch]. */
export function meanOverDataDimensions(values: tf.Tensor): tf.Tensor1D {
  if (values.rank <= 1) return tf.reshape(values, [values.shape[0] ?? 1]) as tf.Tensor1D;
  const axes = Array.from({ length: values.rank - 1 }, (_, position) => position + 1);
  return tf.mean(values, axes) as tf.Tensor1D;
}
