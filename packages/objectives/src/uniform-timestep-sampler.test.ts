import { createNoiseSource } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { createUniformTimestepSampler } from './uniform-timestep-sampler.js';

describe('createUniformTimestepSampler', () => {
  it('draws every index about equally often, with unit weights', () => {
    const sampler = createUniformTimestepSampler(8);
    const { indices, weights } = sampler.sample(40_000, createNoiseSource(1));
    const counts = new Array<number>(8).fill(0);
    for (const index of indices) counts[index] = (counts[index] as number) + 1;
    for (const count of counts) expect(Math.abs(count - 5000)).toBeLessThan(300);
    expect(weights.every((weight) => weight === 1)).toBe(true);
  });

  it('is reproducible from the seed of the noise source', () => {
    const sampler = createUniformTimestepSampler(1000);
    const a = sampler.sample(16, createNoiseSource(7)).indices;
    const b = sampler.sample(16, createNoiseSource(7)).indices;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('round-trips its state through JSON and rejects a foreign state', () => {
    const sampler = createUniformTimestepSampler(10);
    const state: unknown = JSON.parse(JSON.stringify(sampler.getState()));
    expect(() => createUniformTimestepSampler(10).setState(state)).not.toThrow();
    expect(() => createUniformTimestepSampler(20).setState(state)).toThrow(/numSteps: 20/);
    expect(() => createUniformTimestepSampler(0)).toThrow(/numSteps must be a positive integer/);
    expect(() => sampler.sample(-1, createNoiseSource(1))).toThrow(/batchSize/);
  });
});
