import { describe, expect, it } from 'vitest';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { createBatchIterator, type BatchIteratorState } from './batch-iterator.js';
import { gatherImages, gatherPoints, type ImageDataset } from './image-dataset.js';
import { toyDataset } from './toy-datasets.js';

const take = (iterator: { nextBatch(): Int32Array }, batches: number): number[][] => Array.from({ length: batches }, () => [...iterator.nextBatch()]);

describe('createBatchIterator', () => {
  it('covers every index exactly once per epoch, with a new order each epoch', () => {
    const iterator = createBatchIterator({ count: 103, batchSize: 10, noise: createNoiseSource(1) });
    expect(iterator.batchesPerEpoch).toBe(11);
    const orders: number[][] = [];
    for (let epoch = 0; epoch < 3; epoch += 1) {
      const batches = take(iterator, 11);
      expect(iterator.epoch).toBe(epoch);
      expect(batches.map((batch) => batch.length)).toEqual([...new Array<number>(10).fill(10), 3]);
      const flat = batches.flat();
      expect([...flat].sort((left, right) => left - right)).toEqual(Array.from({ length: 103 }, (_, index) => index));
      orders.push(flat);
    }
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
    expect(orders[0]).not.toEqual(Array.from({ length: 103 }, (_, index) => index));
  });

  it('dropLast gives only full batches, without repeats inside an epoch', () => {
    const iterator = createBatchIterator({ count: 25, batchSize: 8, noise: createNoiseSource(2), dropLast: true });
    expect(iterator.batchesPerEpoch).toBe(3);
    const seen = new Set<number>();
    for (let epoch = 0; epoch < 20; epoch += 1) {
      const flat = take(iterator, 3).flat();
      expect(flat).toHaveLength(24);
      expect(new Set(flat).size).toBe(24);
      flat.forEach((index) => seen.add(index));
    }
    expect(seen.size).toBe(25);
    expect(() => createBatchIterator({ count: 5, batchSize: 8, noise: createNoiseSource(2), dropLast: true })).toThrow(
      /no batch would ever be produced/,
    );
  });

  it('iterating yields one epoch at a time', () => {
    const iterator = createBatchIterator({ count: 10, batchSize: 4, noise: createNoiseSource(3), shuffle: false });
    expect([...iterator].map((batch) => [...batch])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect([...iterator].map((batch) => batch.length)).toEqual([4, 4, 2]);
    expect(iterator.epoch).toBe(1);
  });

  it('is reproducible from the seed, and consumes the caller noise only once', () => {
    const noise = createNoiseSource('batches');
    const first = take(createBatchIterator({ count: 50, batchSize: 7, noise }), 30);
    const noiseAfterCreation = noise.getState();
    const second = take(createBatchIterator({ count: 50, batchSize: 7, noise: createNoiseSource('batches') }), 30);
    expect(second).toEqual(first);
    const other = take(createBatchIterator({ count: 50, batchSize: 7, noise: createNoiseSource('other') }), 30);
    expect(other).not.toEqual(first);
    const iterator = createBatchIterator({ count: 50, batchSize: 7, noise });
    const state = noise.getState();
    take(iterator, 40);
    expect(noise.getState()).toEqual(state);
    expect(state).not.toEqual(noiseAfterCreation);
  });

  it('resumes exactly from a saved state, mid-epoch and at epoch boundaries', () => {
    for (const [stopAfter, dropLast] of [
      [0, false],
      [3, false],
      [8, false],
      [9, false],
      [17, true],
      [12, true],
    ] as const) {
      const original = createBatchIterator({ count: 64, batchSize: 8, noise: createNoiseSource(9), dropLast });
      take(original, stopAfter);
      const saved = JSON.parse(JSON.stringify(original.getState())) as BatchIteratorState;
      const expected = take(original, 25);
      const resumed = createBatchIterator({ count: 64, batchSize: 8, noise: createNoiseSource('unrelated'), dropLast });
      resumed.setState(saved);
      expect(resumed.epoch).toBe(saved.epoch);
      expect(resumed.position).toBe(saved.position);
      expect(take(resumed, 25)).toEqual(expected);
      expect(resumed.getState()).toEqual(original.getState());
    }
    const iterator = createBatchIterator({ count: 64, batchSize: 8, noise: createNoiseSource(9) });
    const state = iterator.getState();
    expect(() => createBatchIterator({ count: 63, batchSize: 8, noise: createNoiseSource(9) }).setState(state)).toThrow(/count 64/);
    expect(() => iterator.setState({ ...state, position: 65 })).toThrow(/out of range/);
  });
});

describe('gather', () => {
  it('gathers images and labels in batch order', () => {
    const dataset: ImageDataset = {
      images: Float32Array.from({ length: 3 * 2 * 2 }, (_, index) => index),
      labels: Int32Array.from([7, 8, 9]),
      count: 3,
      height: 2,
      width: 2,
      channels: 1,
      numClasses: 10,
    };
    const batch = gatherImages(dataset, Int32Array.from([2, 0]));
    expect(batch.shape).toEqual([2, 2, 2, 1]);
    expect([...batch.images]).toEqual([8, 9, 10, 11, 0, 1, 2, 3]);
    expect([...batch.labels]).toEqual([9, 7]);
    expect(() => gatherImages(dataset, [3])).toThrow(/index 3 is outside the dataset of 3 items/);
  });

  it('gathers toy points', () => {
    const dataset = toyDataset('eight-gaussians', 5, createNoiseSource(1));
    const batch = gatherPoints(dataset, [4, 1]);
    expect(batch.shape).toEqual([2, 2]);
    expect([...batch.points]).toEqual([dataset.points[8], dataset.points[9], dataset.points[2], dataset.points[3]]);
    expect([...batch.labels]).toEqual([dataset.labels[4], dataset.labels[1]]);
  });
});
