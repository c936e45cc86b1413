import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, DiffusionError } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDdim } from './ddim.js';
import { sampleDdpm } from './ddpm.js';
import { gaussianModel, maxAbsDifference, mixtureModel } from './test-utils/exact-models.js';
import { expectAffineMap, expectMixtureWeights, expectNearData, expectOracleMoments, GAUSSIAN, MIXTURE } from './test-utils/expectations.js';
import { ddimMoments } from './test-utils/gaussian-oracle.js';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';

const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const ddim50 = respaceSchedule(full, 'ddim50');
const ddim100 = respaceSchedule(full, 'ddim100');
const even10 = respaceSchedule(full, '10');
const model = gaussianModel(full, GAUSSIAN);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleDdim', () => {
  it.each([
    // [schedule, exact std of the output, allowed relative std bias]: DDIM loses variance with few steps
    ['ddim50', ddim50, 0.3737, 0.075],
    ['10', even10, 0.2703, 0.33],
  ] as const)('with eta = 0 maps x_T to its exact affine image on %s steps', async (_, schedule, exactStd, bias) => {
    const shape = [4000, 2];
    const initialNoise = tf.tensor(createNoiseSource(10).normal(shape), shape);
    const samples = await sampleDdim({ model, schedule, shape, noise: createNoiseSource(11), initialNoise });
    const oracle = ddimMoments(schedule, GAUSSIAN, 0);
    expect(oracle.std).toBeCloseTo(exactStd, 4);
    expectAffineMap(samples, initialNoise, oracle, 2e-5);
    expectOracleMoments(samples, oracle);
    expectNearData(oracle, GAUSSIAN, bias);
    tf.dispose([samples, initialNoise]);
  });

  it('with eta = 1 and 100 steps follows its exact distribution, which is that of DDPM', async () => {
    const samples = await sampleDdim({ model, schedule: ddim100, shape: [4000, 2], noise: createNoiseSource(12), eta: 1 });
    const oracle = ddimMoments(ddim100, GAUSSIAN, 1);
    expectOracleMoments(samples, oracle);
    // std 0.3697, 7.6% below s, as DDPM on the same 100 steps
    expectNearData(oracle, GAUSSIAN, 0.09);
    // eta = 1 has sigma_t^2 = betaTilde_t: the DDPM fixed-small step, drawing the same noise in the same order
    const ddpm = await sampleDdpm({ model, schedule: ddim100, shape: [4000, 2], noise: createNoiseSource(12) });
    expect(maxAbsDifference(samples, ddpm)).toBeLessThan(1e-4);
    tf.dispose([samples, ddpm]);
  });

  it('with eta = 0.5 follows its exact distribution', async () => {
    const samples = await sampleDdim({ model, schedule: ddim100, shape: [4000, 2], noise: createNoiseSource(13), eta: 0.5 });
    expectOracleMoments(samples, ddimMoments(ddim100, GAUSSIAN, 0.5));
    samples.dispose();
  });

  it('gives the same result for epsilon, x0 and v models of the same denoiser', async () => {
    const shape = [1000, 2];
    const initialNoise = tf.tensor(createNoiseSource(14).normal(shape), shape);
    const run = (prediction: 'epsilon' | 'x0' | 'v') =>
      sampleDdim({ model: gaussianModel(full, GAUSSIAN, { prediction }), schedule: ddim50, shape, noise: createNoiseSource(15), initialNoise });
    const [epsilon, x0, v] = await Promise.all([run('epsilon'), run('x0'), run('v')]);
    expect(maxAbsDifference(x0, epsilon)).toBeLessThan(1e-4);
    expect(maxAbsDifference(v, epsilon)).toBeLessThan(1e-4);
    tf.dispose([epsilon, x0, v, initialNoise]);
  });

  it('is deterministic given x_T with eta = 0, and reproducible by seed with eta > 0', async () => {
    const shape = [64, 2];
    const run = (seed: number, eta: number, initialNoise?: tf.Tensor) =>
      sampleDdim({ model, schedule: even10, shape, noise: createNoiseSource(seed), eta, ...(initialNoise ? { initialNoise } : {}) });
    const initialNoise = tf.tensor(createNoiseSource(16).normal(shape), shape);
    const results = [
      await run(1, 0, initialNoise),
      await run(2, 0, initialNoise), // eta = 0 draws nothing after x_T
      await run(3, 1),
      await run(3, 1),
      await run(4, 1),
    ] as const;
    expect(maxAbsDifference(results[0], results[1])).toBe(0);
    expect(maxAbsDifference(results[2], results[3])).toBe(0);
    expect(maxAbsDifference(results[2], results[4])).toBeGreaterThan(0.1);
    tf.dispose([...results, initialNoise]);
  });

  it('puts each mixture component its weight (50 steps, eta = 0)', async () => {
    const samples = await sampleDdim({ model: mixtureModel(full, MIXTURE), schedule: ddim50, shape: [4000, 2], noise: createNoiseSource(17) });
    expectMixtureWeights(samples, MIXTURE, 0);
    samples.dispose();
  });

  it('shifts eps by -sqrt(1 - aBar) g for a guidance gradient g (ADM Algorithm 2), checked by hand on one step', async () => {
    const gradient = [0.7, -1.2];
    const shape = [8, 2];
    const initialNoise = tf.tensor(createNoiseSource(18).normal(shape), shape);
    let first: number[] = [];
    const result = await sampleDdim({
      model: gaussianModel(full, GAUSSIAN, { guidanceGradient: gradient }),
      schedule: ddim50,
      shape,
      noise: createNoiseSource(19),
      initialNoise,
      onStep: ({ stepNumber, x }) => {
        if (stepNumber === 0) first = Array.from(x.dataSync());
      },
    });
    // by hand at i = 49: eps^ = eps - sqrt(1 - a) g, x0^ = (x - sqrt(1 - a) eps^) / sqrt(a), x' = sqrt(a') x0^ + sqrt(1 - a') eps^
    const alphaBar = ddim50.alphaBars[49] as number;
    const previous = ddim50.alphaBars[48] as number;
    const v = alphaBar * GAUSSIAN.std ** 2 + 1 - alphaBar;
    const start = initialNoise.dataSync();
    first.forEach((value, position) => {
      const dim = position % 2;
      const x = start[position] as number;
      const epsilon = (Math.sqrt(1 - alphaBar) * (x - Math.sqrt(alphaBar) * (GAUSSIAN.mean[dim] as number))) / v;
      const guided = epsilon - Math.sqrt(1 - alphaBar) * (gradient[dim] as number);
      const x0 = (x - Math.sqrt(1 - alphaBar) * guided) / Math.sqrt(alphaBar);
      expect(Math.abs(value - (Math.sqrt(previous) * x0 + Math.sqrt(1 - previous) * guided))).toBeLessThan(1e-5);
    });
    tf.dispose([result, initialNoise]);
  });

  it.each([1.5, -0.1, Number.NaN])('rejects eta = %s with a DiffusionError naming eta', async (eta) => {
    const run = sampleDdim({ model, schedule: even10, shape: [4, 2], noise: createNoiseSource(20), eta });
    await expect(run).rejects.toThrow(DiffusionError);
    await expect(run).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/eta must be .*\[0, 1\]/) });
  });
});
