import * as tf from '@tensorflow/tfjs-core';
import type { NoiseSource } from '@tfjs-diffusion/core';

/**
 * Classifier-free guidance training (Ho & Salimans 2022, Algorithm 1): each label is replaced by
 * the null class with probability `probability`, drawn from the seeded noise source.
 */
export function dropClassLabels(labels: Int32Array, probability: number, nullClass: number, noise: NoiseSource): Int32Array {
  const draws = noise.uniform(labels.length);
  return labels.map((label, sample) => ((draws[sample] as number) < probability ? nullClass : label));
}

/** The same, for a label tensor: returns a new int32 tensor. */
export function dropClassLabelTensor(labels: tf.Tensor1D, probability: number, nullClass: number, noise: NoiseSource): tf.Tensor1D {
  const host = Int32Array.from(labels.dataSync());
  return tf.tensor1d(dropClassLabels(host, probability, nullClass, noise), 'int32');
}
