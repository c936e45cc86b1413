import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { approxStandardNormalCdf, discretizedGaussianLogLikelihood } from './discretized-gaussian.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

/** The 256 bin centres -1 + 2k/255 of 8-bit data scaled to [-1, 1]. */
const binCentres = Float32Array.from({ length: 256 }, (_, k) => -1 + (2 * k) / 255);

describe('approxStandardNormalCdf', () => {
  it('is within 1e-3 of the exact normal CDF and hits 0.5 at 0', () => {
    // Exact Phi at a few points (tables): 0.5, 0.841345, 0.977250, 0.998650, 0.158655
    const points = [0, 1, 2, 3, -1];
    const exact = [0.5, 0.841345, 0.97725, 0.99865, 0.158655];
    const values = tf.tidy(() => approxStandardNormalCdf(tf.tensor(points)).dataSync());
    points.forEach((_, position) => expect(Math.abs((values[position] as number) - (exact[position] as number))).toBeLessThan(1e-3));
    expect(values[0]).toBeCloseTo(0.5, 7);
  });
});

describe('discretizedGaussianLogLikelihood', () => {
  it.each([
    [0, 0.1],
    [0.3, 0.02],
    [-0.95, 0.5],
    [0.999, 0.003],
    [0, 3],
  ])('sums to probability 1 over the 256 bin centres (mean %f, sigma %f)', (mean, sigma) => {
    const total = tf.tidy(() => {
      const x = tf.tensor(binCentres);
      const logProbabilities = discretizedGaussianLogLikelihood(x, tf.fill([256], mean), Math.log(sigma));
      return tf.sum(tf.exp(logProbabilities)).dataSync()[0] as number;
    });
    expect(Math.abs(total - 1)).toBeLessThan(1e-4);
  });

  it('gives a bin the Gaussian mass between its edges, with open outer bins', () => {
    const sigma = 0.05;
    const values = tf.tidy(() => discretizedGaussianLogLikelihood(tf.tensor([0, -1, 1]), tf.tensor([0, -1, 1]), Math.log(sigma)).dataSync());
    // 1. the centre bin: Phi(h / sigma) - Phi(-h / sigma) with h = 1/255, about 2h N(0; 0, sigma^2)
    const half = 1 / 255;
    const density = 1 / (sigma * Math.sqrt(2 * Math.PI));
    expect(Math.exp(values[0] as number)).toBeCloseTo(2 * half * density, 3);
    // 2. the outer bins hold everything beyond their inner edge: Phi(h / sigma) each
    const outer = tf.tidy(() => approxStandardNormalCdf(tf.scalar(half / sigma)).dataSync()[0] as number);
    expect(Math.exp(values[1] as number)).toBeCloseTo(outer, 5);
    expect(Math.exp(values[2] as number)).toBeCloseTo(outer, 5);
  });

  it('clamps far tails to log 1e-12 instead of -Infinity', () => {
    const value = tf.tidy(() => discretizedGaussianLogLikelihood(tf.tensor([0.5]), tf.tensor([-0.5]), Math.log(0.001)).dataSync()[0]);
    expect(value).toBeCloseTo(Math.log(1e-12), 3);
  });
});
