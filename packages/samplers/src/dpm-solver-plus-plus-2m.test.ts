import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDpmSolverPlusPlus2M } from './dpm-solver-plus-plus-2m.js';
import { sampleEuler } from './euler.js';
import { gaussianModel, maxAbsDifference } from './test-utils/exact-models.js';
import { GAUSSIAN } from './test-utils/expectations.js';
import { fullSchedule, sigmaSamplerSuite, spacing } from './test-utils/sigma-sampler-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleDpmSolverPlusPlus2M', () => {
  // second order with Karras sigmas: 9.4% at 10 steps, 3.4% at 25; the schedule's evenly spaced
  // steps make very uneven log-sigma steps near t = 0, where the multistep extrapolation overshoots (22% at 25)
  sigmaSamplerSuite(
    sampleDpmSolverPlusPlus2M,
    'dpm-solver-plus-plus-2m',
    [
      { sigmas: 'karras', steps: 10, exactStd: 0.4374, bias: 0.1 },
      { sigmas: 'karras', steps: 25, exactStd: 0.4134, bias: 0.04 },
      { sigmas: 'schedule', steps: 25, exactStd: 0.4866, bias: 0.23 },
    ],
    { sigmas: 'karras', steps: 25 },
  );

  it('takes a first-order (Euler) first step, and differs from Euler in the end', async () => {
    const shape = [16, 2];
    const initialNoise = tf.tensor(createNoiseSource(36).normal(shape), shape);
    const trace = async (sampler: typeof sampleEuler) => {
      const steps: tf.Tensor[] = [];
      const result = await sampler({
        model: gaussianModel(fullSchedule, GAUSSIAN),
        shape,
        noise: createNoiseSource(37),
        initialNoise,
        onStep: ({ x }) => {
          steps.push(tf.clone(x));
        },
        ...spacing('karras', 10),
      });
      return [...steps, result];
    };
    const solver = await trace(sampleDpmSolverPlusPlus2M);
    const euler = await trace(sampleEuler);
    expect(maxAbsDifference(solver[0] as tf.Tensor, euler[0] as tf.Tensor)).toBeLessThan(1e-5);
    expect(maxAbsDifference(solver[10] as tf.Tensor, euler[10] as tf.Tensor)).toBeGreaterThan(1e-2);
    tf.dispose([...solver, ...euler, initialNoise]);
  });
});
