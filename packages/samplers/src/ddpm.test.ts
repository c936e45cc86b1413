import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDdpm } from './ddpm.js';
import { gaussianModel, maxAbsDifference, mixtureModel } from './test-utils/exact-models.js';
import { expectMixtureWeights, expectNearData, expectOracleMoments, GAUSSIAN, MIXTURE } from './test-utils/expectations.js';
import { ddpmMoments } from './test-utils/gaussian-oracle.js';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';

const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const ddim100 = respaceSchedule(full, 'ddim100');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleDdpm', () => {
  it('samples N(mu, s^2) with all 1000 steps and fixed-small variance', async () => {
    const samples = await sampleDdpm({ model: gaussianModel(full, GAUSSIAN), schedule: full, shape: [4000, 2], noise: createNoiseSource(1) });
    const oracle = ddpmMoments(full, GAUSSIAN, 'fixed-small');
    expectOracleMoments(samples, oracle);
    // the method's own bias at T = 1000 is 0.95% of s (std 0.3962)
    expectNearData(oracle, GAUSSIAN, 0.015);
    samples.dispose();
  });

  it('samples N(mu, s^2) with all 1000 steps and fixed-large variance', async () => {
    const model = gaussianModel(full, GAUSSIAN, { variance: 'fixed-large' });
    const samples = await sampleDdpm({ model, schedule: full, shape: [2000, 2], noise: createNoiseSource(2) });
    const oracle = ddpmMoments(full, GAUSSIAN, 'fixed-large');
    expectOracleMoments(samples, oracle);
    // bias 0.2% of s (std 0.4009)
    expectNearData(oracle, GAUSSIAN, 0.01);
    samples.dispose();
  });

  it('follows its exact output distribution on a respaced schedule (100 steps)', async () => {
    const samples = await sampleDdpm({ model: gaussianModel(full, GAUSSIAN), schedule: ddim100, shape: [4000, 2], noise: createNoiseSource(3) });
    const oracle = ddpmMoments(ddim100, GAUSSIAN, 'fixed-small');
    expectOracleMoments(samples, oracle);
    // fewer steps cost variance: std 0.3697, 7.6% below s
    expectNearData(oracle, GAUSSIAN, 0.09);
    samples.dispose();
  });

  it('puts each mixture component its weight (100 steps)', async () => {
    const samples = await sampleDdpm({ model: mixtureModel(full, MIXTURE), schedule: ddim100, shape: [4000, 2], noise: createNoiseSource(4) });
    expectMixtureWeights(samples, MIXTURE, 0);
    samples.dispose();
  });

  it('gives fixed-small samples for learned-range v = -1 and fixed-large ones for v = +1', async () => {
    const run = async (variance: 'fixed-small' | 'fixed-large' | 'learned-range', varianceValue?: number) =>
      sampleDdpm({
        model: gaussianModel(full, GAUSSIAN, { variance, ...(varianceValue === undefined ? {} : { varianceValue }) }),
        schedule: ddim100,
        shape: [256, 2],
        noise: createNoiseSource(5),
      });
    const small = await run('fixed-small');
    const large = await run('fixed-large');
    const learnedSmall = await run('learned-range', -1);
    const learnedLarge = await run('learned-range', 1);
    const learnedMiddle = await run('learned-range', 0);
    expect(maxAbsDifference(learnedSmall, small)).toBe(0);
    expect(maxAbsDifference(learnedLarge, large)).toBe(0);
    expect(maxAbsDifference(learnedMiddle, small)).toBeGreaterThan(1e-3);
    tf.dispose([small, large, learnedSmall, learnedLarge, learnedMiddle]);
  });

  it('shifts the mean by Sigma g for a guidance gradient g (ADM Algorithm 1), checked by hand on one step', async () => {
    const gradient = [0.7, -1.2];
    const shape = [8, 2];
    const schedule = respaceSchedule(full, 'ddim10');
    const initialNoise = tf.tensor(createNoiseSource(6).normal(shape), shape);
    const firstStep = async (guidanceGradient?: number[]) => {
      let x: number[] = [];
      const result = await sampleDdpm({
        model: gaussianModel(full, GAUSSIAN, guidanceGradient ? { guidanceGradient } : {}),
        schedule,
        shape,
        noise: createNoiseSource(7),
        initialNoise,
        onStep: ({ stepNumber, x: sample }) => {
          if (stepNumber === 0) x = Array.from(sample.dataSync());
        },
      });
      result.dispose();
      return x;
    };
    const guided = await firstStep(gradient);
    const plain = await firstStep();

    // by hand: i = 9, x0 = mu + sqrt(a) s^2 (x - sqrt(a) mu) / v, mean = c1 x0 + c2 x + Sigma g, x' = mean + sqrt(Sigma) z
    const index = 9;
    const alphaBar = schedule.alphaBars[index] as number;
    const variance = Math.exp(schedule.posteriorLogVariancesClipped[index] as number);
    const v = alphaBar * GAUSSIAN.std ** 2 + 1 - alphaBar;
    const z = createNoiseSource(7).normal(shape);
    const start = initialNoise.dataSync();
    guided.forEach((value, position) => {
      const dim = position % 2;
      const mu = GAUSSIAN.mean[dim] as number;
      const x = start[position] as number;
      const x0 = mu + (Math.sqrt(alphaBar) * GAUSSIAN.std ** 2 * (x - Math.sqrt(alphaBar) * mu)) / v;
      const mean =
        (schedule.posteriorMeanCoefficientsX0[index] as number) * x0 +
        (schedule.posteriorMeanCoefficientsXt[index] as number) * x +
        variance * (gradient[dim] as number);
      expect(Math.abs(value - (mean + Math.sqrt(variance) * (z[position] as number)))).toBeLessThan(1e-5);
      // and the same noise without guidance differs by exactly Sigma g
      expect(Math.abs(value - (plain[position] as number) - variance * (gradient[dim] as number))).toBeLessThan(1e-6);
    });
    initialNoise.dispose();
  });

  it("requires varianceValues from a 'learned-range' model", async () => {
    const model = { ...gaussianModel(full, GAUSSIAN), variance: 'learned-range' as const };
    const before = tf.memory().numTensors;
    await expect(sampleDdpm({ model, schedule: ddim100, shape: [4, 2], noise: createNoiseSource(8) })).rejects.toThrow(/varianceValues/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
