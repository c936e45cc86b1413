import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, type NoiseSchedule } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDdim } from './ddim.js';
import { sampleDdpm } from './ddpm.js';
import { sampleEuler } from './euler.js';
import { sampleEulerAncestral } from './euler-ancestral.js';
import { karrasSigmas, sigmaSteps, sigmaToTimestep } from './sigma-space.js';
import { gaussianModel, maxAbsDifference } from './test-utils/exact-models.js';
import { GAUSSIAN } from './test-utils/expectations.js';
import { createSchedule, karrasSigmas as scheduleKarrasSigmas, respaceSchedule } from '@tfjs-diffusion/schedules';

const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const even25 = respaceSchedule(full, '25');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('karrasSigmas', () => {
  it('gives the reference values of eq. 5 (n = 10, sigma in [0.002, 80], rho = 7)', () => {
    const reference = [80, 42.4152, 21.1087, 9.7232, 4.0661, 1.5017, 0.47, 0.1166, 0.0204, 0.002];
    karrasSigmas(10, 0.002, 80, 7).forEach((sigma, step) => expect(Math.abs(sigma - (reference[step] as number))).toBeLessThan(1e-4));
    expect(karrasSigmas(1, 0.002, 80, 7)).toEqual([80]);
    // the same values as the schedules package, which appends the final 0
    const fromSchedules = scheduleKarrasSigmas({ count: 12, sigmaMin: 0.01, sigmaMax: 157, rho: 5 });
    expect([...karrasSigmas(12, 0.01, 157, 5), 0]).toEqual(Array.from(fromSchedules));
  });
});

describe('sigmaToTimestep', () => {
  it('is exact at the schedule steps, linear in log sigma between them, and clamped outside', () => {
    for (const timestep of [0, 1, 499, 998, 999]) expect(sigmaToTimestep(full, full.sigmas[timestep] as number)).toBe(timestep);
    const between = Math.sqrt((full.sigmas[499] as number) * (full.sigmas[500] as number));
    expect(sigmaToTimestep(full, between)).toBeCloseTo(499.5, 9);
    expect(sigmaToTimestep(full, 1e-6)).toBe(0);
    expect(sigmaToTimestep(full, 1e6)).toBe(999);
    // on a respaced schedule it interpolates over the kept (original) timesteps
    expect(sigmaToTimestep(even25, even25.sigmas[3] as number)).toBe(even25.timesteps[3]);
  });
});

describe('sigmaSteps', () => {
  it("walks the schedule's sigmas noisiest first, then 0", () => {
    const steps = sigmaSteps(even25, {});
    expect(steps).toHaveLength(25);
    expect(steps.map((step) => step.sigma)).toEqual(Array.from(even25.sigmas).reverse());
    expect(steps.map((step) => step.timestep)).toEqual([...even25.timesteps].reverse());
    expect(steps[24]).toMatchObject({ stepNumber: 24, timestep: 0, sigmaNext: 0, timestepNext: -1 });
    expect(steps[1]?.sigmaLast).toBe(steps[0]?.sigma);
    expect(steps[0]?.sigmaLast).toBeNaN();
  });

  it('spaces Karras sigmas between the schedule extremes with fractional, decreasing timesteps', () => {
    const steps = sigmaSteps(full, { sigmas: 'karras', steps: 12, rho: 7 });
    expect(steps).toHaveLength(12);
    expect(steps[0]).toMatchObject({ sigma: full.sigmas[999], timestep: 999 });
    expect(steps[11]).toMatchObject({ sigma: full.sigmas[0], timestep: 0, sigmaNext: 0 });
    steps.slice(1).forEach((step, position) => {
      expect(step.sigma).toBeLessThan((steps[position] as (typeof steps)[number]).sigma);
      expect(step.timestep).toBeLessThan((steps[position] as (typeof steps)[number]).timestep);
    });
    expect(steps.some((step) => !Number.isInteger(step.timestep))).toBe(true);
    // by default as many Karras sigmas as the schedule has steps
    expect(sigmaSteps(even25, { sigmas: 'karras', trainingSchedule: full })).toHaveLength(25);
  });

  it.each([
    [{ sigmas: 'exponential' }, /sigmas must be 'schedule' or 'karras'/],
    [{ sigmas: 'karras', rho: 0 }, /rho must be a positive/],
    [{ sigmas: 'karras', steps: 2.5 }, /steps must be a positive integer/],
    [{ rho: 7 }, /only with sigmas: 'karras'/],
  ])('rejects %o', (spacing, message) => {
    expect(() => sigmaSteps(full, spacing as never)).toThrow(message);
  });

  it('rejects a schedule whose sigmas do not increase', () => {
    const broken: NoiseSchedule = { ...even25, sigmas: Float64Array.from(even25.sigmas).reverse() };
    expect(() => sigmaSteps(broken, {})).toThrow(expect.objectContaining({ code: 'invalid-schedule' }));
  });
});

describe('sigma-space samplers against DDIM', () => {
  const shape = [500, 2];

  it('Euler on the schedule sigmas is DDIM with eta = 0, guidance and clipping included', async () => {
    const initialNoise = tf.tensor(createNoiseSource(40).normal(shape), shape);
    for (const [guidanceGradient, clipDenoised] of [
      [undefined, false],
      [[0.7, -1.2], true],
    ] as const) {
      const model = gaussianModel(full, GAUSSIAN, guidanceGradient ? { guidanceGradient } : {});
      const common = { model, schedule: even25, shape, noise: createNoiseSource(41), initialNoise, clipDenoised };
      const euler = await sampleEuler(common);
      const ddim = await sampleDdim(common);
      expect(maxAbsDifference(euler, ddim)).toBeLessThan(1e-4);
      tf.dispose([euler, ddim]);
    }
    initialNoise.dispose();
  });

  it('Euler ancestral on the schedule sigmas is DDIM with eta = 1 and DDPM, noise for noise', async () => {
    const common = { model: gaussianModel(full, GAUSSIAN), schedule: even25, shape };
    const ancestral = await sampleEulerAncestral({ ...common, noise: createNoiseSource(42) });
    const ddim = await sampleDdim({ ...common, noise: createNoiseSource(42), eta: 1 });
    const ddpm = await sampleDdpm({ ...common, noise: createNoiseSource(42) });
    expect(maxAbsDifference(ancestral, ddim)).toBeLessThan(1e-4);
    expect(maxAbsDifference(ancestral, ddpm)).toBeLessThan(1e-4);
    tf.dispose([ancestral, ddim, ddpm]);
  });
});
