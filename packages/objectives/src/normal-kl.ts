import * as tf from '@tensorflow/tfjs-core';

/**
 * Elementwise KL(N(mean1, exp(logVariance1)) || N(mean2, exp(logVariance2))) in nats, the Gaussian KL
 * of DDPM's L_{t-1} (Ho et al. 2020, eq. 5; improved-diffusion `normal_kl`). Arguments broadcast.
 */
export function normalKl(
  mean1: tf.Tensor | number,
  logVariance1: tf.Tensor | number,
  mean2: tf.Tensor | number,
  logVariance2: tf.Tensor | number,
): tf.Tensor {
  return tf.tidy(() => {
    // 1. KL = 1/2 (-1 + log s2^2 - log s1^2 + s1^2 / s2^2 + (m1 - m2)^2 / s2^2)
    const logRatio = tf.sub(logVariance2, logVariance1);
    const varianceRatio = tf.exp(tf.sub(logVariance1, logVariance2));
    const meanTerm = tf.mul(tf.square(tf.sub(mean1, mean2)), tf.exp(tf.neg(logVariance2)));
    return tf.mul(0.5, tf.add(tf.add(tf.add(-1, logRatio), varianceRatio), meanTerm));
  });
}
