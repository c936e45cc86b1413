import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, createNoiseSource } from '@tfjs-diffusion/core';
import { createBatchIterator, gatherImages, type ImageDataset } from '@tfjs-diffusion/data';
import type { BatchSource } from './trainer.js';

/**
 * Seeded, resumable mini-batches of a dataset: a fresh permutation per epoch (noise stream
 * `${seed}/data`), the last partial batch dropped. `batchSize` must not exceed the image count
 * (see `fitBatchSize`).
 */
export function imageBatches(dataset: ImageDataset, batchSize: number, seed: number | string, withLabels: boolean): BatchSource {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > dataset.count) {
    throw new DiffusionError(
      'invalid-argument',
      `imageBatches: batch size ${batchSize} must be an integer in [1, ${dataset.count}] (the images of the dataset)`,
    );
  }
  const iterator = createBatchIterator({ count: dataset.count, batchSize, noise: createNoiseSource(`${String(seed)}/data`), dropLast: true });
  return {
    next() {
      const batch = gatherImages(dataset, iterator.nextBatch());
      return { x0: tf.tensor4d(batch.images, batch.shape), ...(withLabels ? { classLabels: batch.labels } : {}) };
    },
    getState: () => iterator.getState(),
    setState: (state) => iterator.setState(state as never),
  };
}

/** The batch size a run can use on `count` images: `requested`, or all images when there are fewer (with the reason). */
export function fitBatchSize(requested: number, count: number): { readonly batchSize: number; readonly notice?: string } {
  if (count < 1) throw new DiffusionError('invalid-argument', 'the dataset has no images');
  if (requested <= count) return { batchSize: requested };
  return { batchSize: count, notice: `batch size ${requested} exceeds the ${count} images of the dataset; each batch holds all ${count} images` };
}
