import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, assertShape, type ModelCondition } from '@tfjs-diffusion/core';

/** Checks x against [batch, ...dataShape] and timesteps against [batch]; returns the batch size. */
export function checkModelInput(x: tf.Tensor, timesteps: tf.Tensor1D, dataShape: readonly number[], what: string): number {
  assertShape(x.shape, [-1, ...dataShape], `${what}: x`);
  const batch = x.shape[0] as number;
  assertShape(timesteps.shape, [batch], `${what}: timesteps`);
  return batch;
}

/**
 * The int32 class labels of a class-conditional model ([batch], values in 0..numClasses, numClasses
 * being the null label), or null for an unconditional one. Labels are required exactly when the
 * model is class-conditional (as ADM asserts).
 */
export function checkClassLabels(condition: ModelCondition | undefined, numClasses: number | null, batch: number, what: string): tf.Tensor1D | null {
  const labels = condition?.classLabels;
  if (numClasses === null) {
    if (labels) throw new DiffusionError('invalid-argument', `${what}: class labels were given to a model without numClasses`);
    return null;
  }
  if (!labels) {
    throw new DiffusionError(
      'invalid-argument',
      `${what}: this model is class-conditional; pass condition.classLabels (${numClasses} is the null label for unconditional samples)`,
    );
  }
  assertShape(labels.shape, [batch], `${what}: condition.classLabels`);
  return labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
}
