import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, DiffusionError } from '@tfjs-diffusion/core';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDpmSolverPlusPlus2M } from './dpm-solver-plus-plus-2m.js';
import { sampleByName } from './sample-by-name.js';
import { sigmaSteps, sigmaToTimestep } from './sigma-space.js';
import { gaussianModel } from './test-utils/exact-models.js';
import { expectAffineMap } from './test-utils/expectations.js';
import { sigmaMoments } from './test-utils/gaussian-oracle.js';

// The case of issue 12: DPM-Solver++(2M), cosine T = 1756 respaced to linspace:21, Karras rho 3.
const training = createSchedule({ kind: 'cosine', timesteps: 1756 });
const respaced = respaceSchedule(training, 'linspace:21');
const data = { mean: [0.82, -0.99], std: 0.3 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Karras sigmas on a respaced schedule', () => {
  it('map sigma to t over the training schedule: on the kept steps alone t was up to dozens of steps off', () => {
    const steps = sigmaSteps(respaced, { sigmas: 'karras', rho: 3, trainingSchedule: training });
    expect(steps).toHaveLength(21);
    let worstOld = 0;
    for (const { sigma, timestep } of steps) {
      // the training schedule's own log-sigma interpolation (k-diffusion's sigma_to_t), in float64
      expect(timestep).toBe(sigmaToTimestep(training, sigma));
      worstOld = Math.max(worstOld, Math.abs(sigmaToTimestep(respaced, sigma) - timestep));
    }
    expect(worstOld).toBeGreaterThan(20);
  });

  it('refuses a respaced schedule without its training schedule, and a training schedule that does not match', () => {
    expect(() => sigmaSteps(respaced, { sigmas: 'karras', rho: 3 })).toThrow(/respaced \(linspace:21, 21 of 1756 steps\).*trainingSchedule/);
    const other = createSchedule({ kind: 'linear', timesteps: 1756 });
    expect(() => sigmaSteps(respaced, { sigmas: 'karras', trainingSchedule: other })).toThrow(DiffusionError);
    expect(() => sigmaSteps(respaced, { sigmas: 'karras', trainingSchedule: respaced })).toThrow(/full 1756-step schedule/);
    expect(() => sigmaSteps(respaced, { trainingSchedule: training })).toThrow(/only with sigmas: 'karras'/);
  });

  it('DPM-Solver++(2M) lands on the float64 oracle of the exact denoiser', async () => {
    const shape = [2000, 2];
    const initialNoise = tf.tensor(createNoiseSource(12).normal(shape), shape);
    const model = gaussianModel(training, data);
    const options = { sigmas: 'karras' as const, rho: 3, trainingSchedule: training };
    const samples = await sampleDpmSolverPlusPlus2M({ model, schedule: respaced, shape, noise: createNoiseSource(13), initialNoise, ...options });
    const oracle = sigmaMoments(sigmaSteps(respaced, options), data, 'dpm-solver-plus-plus-2m');
    expectAffineMap(samples, initialNoise, oracle, 1e-4);
    const mean = tf.mean(samples, 0).arraySync() as number[];
    expect(mean[0]).toBeCloseTo(0.82, 1);
    expect(mean[1]).toBeCloseTo(-0.99, 1);
    // sampleByName passes the training schedule through
    const named = await sampleByName(
      'dpm-solver-plus-plus-2m',
      { model, schedule: respaced, shape, noise: createNoiseSource(13), initialNoise },
      { karrasSteps: 21, trainingSchedule: training },
    );
    const oracle7 = sigmaMoments(sigmaSteps(respaced, { sigmas: 'karras', steps: 21, trainingSchedule: training }), data, 'dpm-solver-plus-plus-2m');
    expectAffineMap(named, initialNoise, oracle7, 1e-4);
    tf.dispose([samples, named, initialNoise]);
  });
});
