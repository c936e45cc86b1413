import { createNoiseSource } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { createImportanceTimestepSampler } from './importance-timestep-sampler.js';

const numSteps = 20;
/** A synthetic loss per step, spread over two orders of magnitude like real VLB terms. */
const lossOf = (step: number): number => 0.05 + 5 * Math.exp(-step / 3);

function fill(sampler: ReturnType<typeof createImportanceTimestepSampler>, rounds: number): void {
  for (let round = 0; round < rounds; round += 1) {
    const indices = Int32Array.from({ length: numSteps }, (_, step) => step);
    sampler.update(
      indices,
      Float64Array.from(indices, (step) => lossOf(step) * (1 + 0.1 * Math.sin(round + step))),
    );
  }
}

describe('createImportanceTimestepSampler', () => {
  it('samples uniformly with unit weights until every step holds historyPerTerm losses', () => {
    const sampler = createImportanceTimestepSampler(numSteps);
    fill(sampler, 9);
    expect(sampler.warmedUp).toBe(false);
    expect(Array.from(sampler.probabilities()).every((p) => Math.abs(p - 1 / numSteps) < 1e-15)).toBe(true);
    expect(sampler.sample(50, createNoiseSource(3)).weights.every((weight) => Math.abs(weight - 1) < 1e-12)).toBe(true);
    fill(sampler, 1);
    expect(sampler.warmedUp).toBe(true);
  });

  it('uses p_t proportional to sqrt(E[L_t^2]) mixed with uniformProbability / N', () => {
    const sampler = createImportanceTimestepSampler(4, { historyPerTerm: 2, uniformProbability: 0.2 });
    sampler.update(Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]), Float64Array.from([3, 4, 0, 0, 1, 1, 6, 8]));
    // sqrt mean squares: sqrt(12.5), 0, 1, sqrt(50)
    const root = [Math.sqrt(12.5), 0, 1, Math.sqrt(50)];
    const total = root.reduce((sum, value) => sum + value, 0);
    const probabilities = sampler.probabilities();
    root.forEach((value, step) => expect(probabilities[step]).toBeCloseTo((0.8 * value) / total + 0.05, 12));
    // the oldest loss is dropped when a full history receives a new one
    sampler.update(Int32Array.from([1]), Float64Array.from([2]));
    expect(sampler.getState().history[1]).toEqual([0, 2]);
  });

  it('weights 1/(N p_t) make the weighted loss an unbiased estimate of the uniform mean', () => {
    const sampler = createImportanceTimestepSampler(numSteps, { uniformProbability: 0.05 });
    fill(sampler, 10);
    const exactUniformMean = Array.from({ length: numSteps }, (_, step) => lossOf(step)).reduce((a, b) => a + b, 0) / numSteps;
    const noise = createNoiseSource('unbiased');
    const draws = 200_000;
    const { indices, weights } = sampler.sample(draws, noise);
    let weightedSum = 0;
    let weightedSquares = 0;
    let uniformSquares = 0;
    for (let sample = 0; sample < draws; sample += 1) {
      const value = (weights[sample] as number) * lossOf(indices[sample] as number);
      weightedSum += value;
      weightedSquares += value * value;
    }
    for (let step = 0; step < numSteps; step += 1) uniformSquares += lossOf(step) ** 2 / numSteps;
    const estimate = weightedSum / draws;
    const importanceVariance = weightedSquares / draws - estimate * estimate;
    const standardError = Math.sqrt(importanceVariance / draws);
    // 1. unbiased: within 4 standard errors (and 0.5 %) of the exact uniform mean
    expect(Math.abs(estimate - exactUniformMean)).toBeLessThan(Math.max(4 * standardError, 1e-12));
    expect(Math.abs(estimate / exactUniformMean - 1)).toBeLessThan(0.005);
    // 2. and with a smaller variance than uniform sampling, which is the point of it
    expect(importanceVariance).toBeLessThan(0.1 * (uniformSquares - exactUniformMean ** 2));
    // 3. the empirical frequencies follow p
    const probabilities = sampler.probabilities();
    const counts = new Array<number>(numSteps).fill(0);
    for (const index of indices) counts[index] = (counts[index] as number) + 1;
    counts.forEach((count, step) => {
      const p = probabilities[step] as number;
      expect(Math.abs(count / draws - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / draws) + 1e-9);
    });
  });

  it('resumes from a JSON round trip of its state and draws the same indices', () => {
    const sampler = createImportanceTimestepSampler(numSteps);
    fill(sampler, 12);
    const restored = createImportanceTimestepSampler(numSteps);
    restored.setState(JSON.parse(JSON.stringify(sampler.getState())));
    expect(restored.warmedUp).toBe(true);
    expect(Array.from(restored.probabilities())).toEqual(Array.from(sampler.probabilities()));
    expect(Array.from(restored.sample(32, createNoiseSource(9)).indices)).toEqual(Array.from(sampler.sample(32, createNoiseSource(9)).indices));
  });

  it('rejects bad options, states and losses with named errors', () => {
    expect(() => createImportanceTimestepSampler(10, { historyPerTerm: 0 })).toThrow(/historyPerTerm/);
    expect(() => createImportanceTimestepSampler(10, { uniformProbability: 2 })).toThrow(/uniformProbability/);
    const sampler = createImportanceTimestepSampler(10);
    expect(() => sampler.update(Int32Array.from([1]), Float64Array.from([Number.NaN]))).toThrow(/loss at index 1 is NaN/);
    expect(() => sampler.update(Int32Array.from([10]), Float64Array.from([1]))).toThrow(/index 10/);
    expect(() => sampler.setState({ kind: 'uniform', numSteps: 10 })).toThrow(/kind must be 'importance'/);
    expect(() => sampler.setState(createImportanceTimestepSampler(11).getState())).toThrow(/numSteps must be 10/);
  });
});
