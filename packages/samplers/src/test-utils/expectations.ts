import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { columnStatistics } from './exact-models.js';
import type { GaussianData, Moments } from './gaussian-oracle.js';

/**
 * Sampling-error bounds used by the tests. For n samples of N(m, sd^2) the sample mean has standard
 * error sd / sqrt(n) and the sample standard deviation sd / sqrt(2n); 4.5 standard errors make a
 * false failure about one in 150,000 per comparison.
 */
export const STANDARD_ERRORS = 4.5;

/** Asserts that [n, dims] samples have the oracle's per-dimension mean and standard deviation within sampling error. */
export function expectOracleMoments(samples: tf.Tensor, oracle: Moments): void {
  const count = samples.shape[0] as number;
  const { mean, std } = columnStatistics(samples);
  const meanBound = (STANDARD_ERRORS * oracle.std) / Math.sqrt(count);
  const stdBound = (STANDARD_ERRORS * oracle.std) / Math.sqrt(2 * count);
  mean.forEach((value, dim) => expect(Math.abs(value - (oracle.mean[dim] as number))).toBeLessThan(meanBound));
  std.forEach((value) => expect(Math.abs(value - oracle.std)).toBeLessThan(stdBound));
}

/**
 * Asserts that a sampler's exact output distribution is the data distribution up to the method's
 * discretization bias: |mean - mu| < 0.01 and |std - s| < relativeStdBias * s.
 */
export function expectNearData(oracle: Moments, data: GaussianData, relativeStdBias: number): void {
  oracle.mean.forEach((value, dim) => expect(Math.abs(value - (data.mean[dim] as number))).toBeLessThan(0.01));
  expect(Math.abs(oracle.std - data.std) / data.std).toBeLessThan(relativeStdBias);
}

/** Asserts that a deterministic sampler computed x0 = slope * x_T + offset element by element. */
export function expectAffineMap(samples: tf.Tensor, initialNoise: tf.Tensor, oracle: Moments, tolerance: number): void {
  const [count, dims] = samples.shape as [number, number];
  const out = samples.dataSync();
  const start = initialNoise.dataSync();
  let worst = 0;
  for (let position = 0; position < count * dims; position += 1) {
    const expected = oracle.slope * (start[position] as number) + (oracle.mean[position % dims] as number);
    worst = Math.max(worst, Math.abs((out[position] as number) - expected));
  }
  expect(worst).toBeLessThan(tolerance);
}

export interface MixtureData {
  readonly weights: readonly number[];
  readonly means: readonly (readonly number[])[];
  readonly std: number;
}

/**
 * Asserts that each mixture component holds its weight: the share of samples within 4 std of
 * component k (radius 4 s; outside it a 2-D Gaussian puts e^-8 = 3e-4) is w_k within
 * 4.5 binomial standard errors plus `bias`, and at most `strayShare` of samples are near neither.
 */
export function expectMixtureWeights(samples: tf.Tensor, mixture: MixtureData, bias: number, strayShare = 0.01): void {
  const [count, dims] = samples.shape as [number, number];
  const values = samples.dataSync();
  const near = mixture.weights.map(() => 0);
  let strays = 0;
  for (let row = 0; row < count; row += 1) {
    const component = mixture.means.findIndex((mean) => {
      let squared = 0;
      for (let dim = 0; dim < dims; dim += 1) squared += ((values[row * dims + dim] as number) - (mean[dim] as number)) ** 2;
      return Math.sqrt(squared) < 4 * mixture.std;
    });
    if (component < 0) strays += 1;
    else near[component] = (near[component] as number) + 1;
  }
  mixture.weights.forEach((weight, component) => {
    const bound = STANDARD_ERRORS * Math.sqrt((weight * (1 - weight)) / count) + bias;
    expect(Math.abs((near[component] as number) / count - weight)).toBeLessThan(bound);
  });
  expect(strays / count).toBeLessThanOrEqual(strayShare);
}

/** The data of the Gaussian tests: a non-trivial mean and a standard deviation below 1. */
export const GAUSSIAN: GaussianData = { mean: [0.5, -0.3], std: 0.4 };

/** The mixture of the mixture tests: weights 0.3 / 0.7 at -(1.5, 1.5) and (1.5, 1.5), std 0.2. */
export const MIXTURE: MixtureData = {
  weights: [0.3, 0.7],
  means: [
    [-1.5, -1.5],
    [1.5, 1.5],
  ],
  std: 0.2,
};
