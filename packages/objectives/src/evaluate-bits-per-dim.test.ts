import * as tf from '@tensorflow/tfjs-core';
import { type DiffusionModel, createNoiseSource } from '@tfjs-diffusion/core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BitsPerDimStepEvent, evaluateBitsPerDim } from './evaluate-bits-per-dim.js';
import { discretizedGaussianEntropyBits, gaussianExactModelBound } from './test-utils/gaussian-bound.js';
import { createGaussianOracleModel } from './test-utils/gaussian-oracle-model.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });
const dataMean = 0.1;
const dataStd = 0.25;

/** 512 values of N(m, s^2) rounded to the 256 bin centres of [-1, 1], like 8-bit data. */
function discretizedGaussianData(): tf.Tensor {
  const shape = [16, 32];
  const noise = createNoiseSource('bits-per-dim-data');
  return tf.tidy(() => {
    const continuous = tf.clipByValue(tf.add(dataMean, tf.mul(dataStd, tf.tensor(noise.normal(shape), shape))), -1, 1);
    return tf.sub(tf.div(tf.round(tf.mul(tf.add(continuous, 1), 127.5)), 127.5), 1);
  });
}

describe('evaluateBitsPerDim', () => {
  it('matches the closed-form bound of the exact Gaussian denoiser with fixed-small variance (3 %)', async () => {
    const x0 = discretizedGaussianData();
    const model = createGaussianOracleModel({ schedule, dataMean, dataStd, prediction: 'epsilon' });
    const result = await evaluateBitsPerDim({ model, schedule, x0, noise: createNoiseSource(1), clipDenoised: false });
    const reference = gaussianExactModelBound(schedule, x0.dataSync(), dataMean, dataStd);
    // the per-step terms average over one eps per value (512 values); across seeds the total moves by ~1 %
    expect(Number.isFinite(result.bitsPerDim)).toBe(true);
    expect(Math.abs(result.bitsPerDim / reference.total - 1)).toBeLessThan(0.03);
    expect(Math.abs(result.klTotal / reference.kl - 1)).toBeLessThan(0.03);
    expect(Math.abs(result.decoder / reference.decoder - 1)).toBeLessThan(0.05);
    expect(result.prior).toBeCloseTo(reference.prior, 7);
    // the parts add up and agree with the per-sample totals and the per-step means
    expect(result.bitsPerDim).toBeCloseTo(result.prior + result.decoder + result.klTotal, 6);
    expect(Array.from(result.perSample).reduce((a, b) => a + b, 0) / 16).toBeCloseTo(result.bitsPerDim, 6);
    expect(result.terms.length).toBe(1000);
    expect(result.terms[0]).toBeCloseTo(result.decoder, 9);
    expect(Array.from(result.terms).reduce((a, b) => a + b, 0)).toBeCloseTo(result.decoder + result.klTotal, 6);
    x0.dispose();
  });

  it('comes within 0.25 bits above the true NLL of the discretized data with the optimal reverse variance', async () => {
    const x0 = discretizedGaussianData();
    const optimal = createGaussianOracleModel({
      schedule,
      dataMean,
      dataStd,
      prediction: 'epsilon',
      variance: 'learned-range',
      varianceValue: 'optimal',
    });
    const result = await evaluateBitsPerDim({ model: optimal, schedule, x0, noise: createNoiseSource(2) });
    // true NLL = entropy of N(0.1, 0.25^2) on 256 bins = 7.0407 bits; the bound cannot be below it
    // (up to Monte Carlo error), and the remaining gap is the Gaussian decoder of discrete data
    const entropy = discretizedGaussianEntropyBits(dataMean, dataStd);
    expect(entropy).toBeCloseTo(7.0407, 3);
    expect(result.bitsPerDim).toBeGreaterThan(entropy - 0.05);
    expect(result.bitsPerDim).toBeLessThan(entropy + 0.25);
    x0.dispose();
  });

  it('scores the exact model better than one whose x0 is off by 0.02, and leaks no tensors', async () => {
    const x0 = discretizedGaussianData();
    const before = tf.memory().numTensors;
    const coarse = createSchedule({ kind: 'linear', timesteps: 100 });
    const exact = createGaussianOracleModel({ schedule: coarse, dataMean, dataStd, prediction: 'x0' });
    const wrong = createGaussianOracleModel({ schedule: coarse, dataMean, dataStd, prediction: 'x0', x0Error: 0.02 });
    const good = await evaluateBitsPerDim({ model: exact, schedule: coarse, x0, noise: createNoiseSource(3) });
    const bad = await evaluateBitsPerDim({ model: wrong, schedule: coarse, x0, noise: createNoiseSource(3) });
    expect(good.bitsPerDim).toBeGreaterThan(0);
    // on T = 100: about 8.63 against 9.26 bits/dim
    expect(bad.bitsPerDim).toBeGreaterThan(good.bitsPerDim + 0.3);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });

  it('reports every step, noisiest first, and stops on abort', async () => {
    const short = createSchedule({ kind: 'cosine', timesteps: 20 });
    const model: DiffusionModel = {
      prediction: 'epsilon',
      variance: 'fixed-large',
      conditioning: null,
      predict: ({ x }) => ({ prediction: tf.zerosLike(x) }),
    };
    const x0 = tf.zeros([2, 3]);
    const events: BitsPerDimStepEvent[] = [];
    const result = await evaluateBitsPerDim({ model, schedule: short, x0, noise: createNoiseSource(4), onStep: (event) => void events.push(event) });
    expect(events.map((event) => event.index)).toEqual(Array.from({ length: 20 }, (_, step) => 19 - step));
    expect(events.every((event, step) => event.stepNumber === step && event.totalSteps === 20)).toBe(true);
    expect(events.map((event) => event.bitsPerDim)).toEqual(Array.from(result.terms).reverse());
    const controller = new AbortController();
    const stopped = evaluateBitsPerDim({
      model,
      schedule: short,
      x0,
      noise: createNoiseSource(4),
      signal: controller.signal,
      onStep: (event) => {
        if (event.stepNumber === 2) controller.abort();
      },
    });
    await expect(stopped).rejects.toThrow(/abort/i);
    x0.dispose();
    await expect(evaluateBitsPerDim({ model, schedule: short, x0: tf.scalar(1), noise: createNoiseSource(1) })).rejects.toThrow(/x0 must be \[batch/);
  });
});
