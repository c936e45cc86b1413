import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleEulerAncestral } from './euler-ancestral.js';
import { gaussianModel } from './test-utils/exact-models.js';
import { expectOracleMoments, GAUSSIAN } from './test-utils/expectations.js';
import { sigmaMoments } from './test-utils/gaussian-oracle.js';
import { fullSchedule, sigmaSamplerSuite, spacing } from './test-utils/sigma-sampler-suite.js';
import { sigmaSteps } from './sigma-space.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleEulerAncestral', () => {
  // ancestral steps lose variance with few steps, like DDPM: 22% at 25 steps, 12% at 50
  sigmaSamplerSuite(
    sampleEulerAncestral,
    'euler-ancestral',
    [
      { sigmas: 'schedule', steps: 25, exactStd: 0.3134, bias: 0.23 },
      { sigmas: 'karras', steps: 25, exactStd: 0.3129, bias: 0.23 },
      { sigmas: 'karras', steps: 50, exactStd: 0.352, bias: 0.13 },
    ],
    { sigmas: 'karras', steps: 50 },
  );

  it('with eta = 0 is plain Euler, and eta = 0.5 follows its exact distribution', async () => {
    const options = spacing('schedule', 25);
    const model = gaussianModel(fullSchedule, GAUSSIAN);
    const steps = sigmaSteps(options.schedule, options);
    const run = (eta: number) => sampleEulerAncestral({ model, shape: [4000, 2], noise: createNoiseSource(33), eta, ...options });
    const deterministic = await run(0);
    const half = await run(0.5);
    expectOracleMoments(deterministic, sigmaMoments(steps, GAUSSIAN, 'euler'));
    expectOracleMoments(half, sigmaMoments(steps, GAUSSIAN, 'euler-ancestral', 0.5));
    tf.dispose([deterministic, half]);
  });

  it.each([1.5, -1])('rejects eta = %s', async (eta) => {
    const run = sampleEulerAncestral({
      model: gaussianModel(fullSchedule, GAUSSIAN),
      shape: [4, 2],
      noise: createNoiseSource(34),
      eta,
      ...spacing('schedule', 5),
    });
    await expect(run).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/eta/) });
  });
});
