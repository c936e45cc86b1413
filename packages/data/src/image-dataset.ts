import { DiffusionError } from '@tfjs-diffusion/core';
import type { ToyDataset } from './toy-datasets.js';

/** Images in NHWC order, scaled to [-1, 1], with one integer label each. */
export interface ImageDataset {
  /** `count * height * width * channels` values in [-1, 1]. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly numClasses: number;
  /** Human-readable class names, index = label, where known. */
  readonly classNames?: readonly string[];
}

/** A batch gathered on the host; make a tensor with `tf.tensor(batch.images, batch.shape)`. */
export interface ImageBatch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly shape: [number, number, number, number];
}

/** A batch of toy points; `tf.tensor(batch.points, batch.shape)`. */
export interface PointBatch {
  readonly points: Float32Array;
  readonly labels: Int32Array;
  readonly shape: [number, number];
}

/** Copies the images and labels at `indices` (e.g. from a batch iterator) into one NHWC batch. */
export function gatherImages(dataset: ImageDataset, indices: ArrayLike<number>): ImageBatch {
  const imageSize = dataset.height * dataset.width * dataset.channels;
  const images = new Float32Array(indices.length * imageSize);
  const labels = new Int32Array(indices.length);
  for (let position = 0; position < indices.length; position += 1) {
    const index = checkIndex(indices[position] as number, dataset.count, 'gatherImages');
    images.set(dataset.images.subarray(index * imageSize, (index + 1) * imageSize), position * imageSize);
    labels[position] = dataset.labels[index] as number;
  }
  return { images, labels, shape: [indices.length, dataset.height, dataset.width, dataset.channels] };
}

/** Copies the toy points and labels at `indices` into one [n, 2] batch. */
export function gatherPoints(dataset: ToyDataset, indices: ArrayLike<number>): PointBatch {
  const points = new Float32Array(indices.length * 2);
  const labels = new Int32Array(indices.length);
  for (let position = 0; position < indices.length; position += 1) {
    const index = checkIndex(indices[position] as number, dataset.count, 'gatherPoints');
    points[2 * position] = dataset.points[2 * index] as number;
    points[2 * position + 1] = dataset.points[2 * index + 1] as number;
    labels[position] = dataset.labels[index] as number;
  }
  return { points, labels, shape: [indices.length, 2] };
}

function checkIndex(index: number, count: number, what: string): number {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new DiffusionError('invalid-argument', `${what}: index ${index} is outside the dataset of ${count} items`);
  }
  return index;
}
