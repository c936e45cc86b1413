import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { deviceTimestepEmbedding, timestepEmbedding, timestepEmbeddingValues } from './timestep-embedding.js';

beforeAll(useCpuBackend);

function embed(timesteps: number[], dimension: number): number[][] {
  return tf.tidy(() => timestepEmbedding(tf.tensor1d(timesteps), dimension).arraySync());
}

describe('timestepEmbedding', () => {
  it('matches hand-computed values, cos first (dim 4: freqs 1 and 0.01)', () => {
    const [zero, one, thousand] = embed([0, 1, 1000], 4) as [number[], number[], number[]];
    expect(zero).toEqual([1, 1, 0, 0]);
    // t = 1: [cos 1, cos 0.01, sin 1, sin 0.01]
    const expectedOne = [0.5403023059, 0.9999500004, 0.8414709848, 0.0099998333];
    one.forEach((value, index) => expect(value).toBeCloseTo(expectedOne[index] as number, 6));
    // t = 1000: [cos 1000, cos 10, sin 1000, sin 10]
    const expectedThousand = [0.5623790763, -0.8390715291, 0.8268795405, -0.5440211109];
    thousand.forEach((value, index) => expect(value).toBeCloseTo(expectedThousand[index] as number, 4));
  });

  it('uses freqs_i = exp(-ln(10000) i / half) (dim 6: 1, 10000^(-1/3), 10000^(-2/3))', () => {
    const [row] = embed([3], 6) as [number[]];
    const frequencies = [1, 10000 ** (-1 / 3), 10000 ** (-2 / 3)];
    frequencies.forEach((frequency, index) => {
      expect(row[index]).toBeCloseTo(Math.cos(3 * frequency), 6);
      expect(row[index + 3]).toBeCloseTo(Math.sin(3 * frequency), 6);
    });
  });

  it('pads an odd dimension with a zero column and rejects bad input', () => {
    const [row] = embed([5], 5) as [number[]];
    expect(row).toHaveLength(5);
    expect(row[4]).toBe(0);
    expect(row[0]).toBeCloseTo(Math.cos(5), 6);
    expect(() => embed([1], 1)).toThrow(/dimension/);
    expect(() => tf.tidy(() => timestepEmbedding(tf.zeros([2, 2]) as unknown as tf.Tensor1D, 4))).toThrow(/timesteps/);
  });
});

describe('timestepEmbeddingValues', () => {
  it('rounds like PyTorch float32 at t near 1000 and applies the timestep scale before the frequencies', () => {
    // PyTorch 1.13: timestep_embedding(th.tensor([999.]), 8) and with t * (1000 / 4000) = 249.75
    const unscaled = Array.from(tf.tidy(() => timestepEmbedding(tf.tensor1d([999]), 8).dataSync()));
    const frequencies = [0, 1, 2, 3].map((index) => Math.fround(Math.exp(Math.fround(Math.fround(Math.fround(-Math.log(10000)) * index) / 4))));
    frequencies.forEach((frequency, index) => {
      expect(unscaled[index]).toBe(Math.fround(Math.cos(Math.fround(999 * frequency))));
      expect(unscaled[index + 4]).toBe(Math.fround(Math.sin(Math.fround(999 * frequency))));
    });
    const scaled = Array.from(tf.tidy(() => timestepEmbedding(tf.tensor1d([999]), 8, 10000, 0.25).dataSync()));
    expect(scaled[0]).toBe(Math.fround(Math.cos(249.75)));
    expect(scaled[4]).toBe(Math.fround(Math.sin(249.75)));
  });
});

describe('deviceTimestepEmbedding (webgpu and webgl path)', () => {
  it('reduces the arguments to [-pi, pi], takes sin and cos from Taylor series, and stays within 1e-6 of the host table for t up to 4000', () => {
    const times = Array.from({ length: 64 }, (_, index) => index * 63.4921875);
    const timesteps = tf.tensor1d(times);
    for (const [dimension, scale] of [
      [128, 1],
      [33, 0.25],
    ] as const) {
      const device = deviceTimestepEmbedding(timesteps, dimension, 10000, scale);
      const host = timestepEmbeddingValues(times, dimension, 10000, scale);
      expect(device.shape).toEqual([64, dimension]);
      const values = device.dataSync();
      let maxError = 0;
      for (let index = 0; index < host.length; index += 1)
        maxError = Math.max(maxError, Math.abs((values[index] as number) - (host[index] as number)));
      expect(maxError).toBeLessThan(1e-6);
      device.dispose();
    }
    timesteps.dispose();
  });
});
