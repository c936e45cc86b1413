import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleHeun } from './heun.js';
import { gaussianModel } from './test-utils/exact-models.js';
import { GAUSSIAN } from './test-utils/expectations.js';
import { fullSchedule, sigmaSamplerSuite, spacing } from './test-utils/sigma-sampler-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleHeun', () => {
  // second order: 11% at 10 steps, 1.6% at 25 (Karras sigmas: 27% at 10, 3.2% at 25)
  sigmaSamplerSuite(
    sampleHeun,
    'heun',
    [
      { sigmas: 'schedule', steps: 10, exactStd: 0.445, bias: 0.12 },
      { sigmas: 'schedule', steps: 25, exactStd: 0.4065, bias: 0.02 },
      { sigmas: 'karras', steps: 25, exactStd: 0.4127, bias: 0.035 },
    ],
    { sigmas: 'karras', steps: 25 },
  );

  it('evaluates the model twice per step except on the last (2N - 1 calls), at the next step timestep', async () => {
    const calls: number[] = [];
    const options = spacing('schedule', 10);
    const model = gaussianModel(fullSchedule, GAUSSIAN, { onCall: (timesteps) => calls.push(timesteps[0] as number) });
    const result = await sampleHeun({ model, shape: [4, 2], noise: createNoiseSource(35), ...options });
    const descending = [...options.schedule.timesteps].reverse();
    // t_N; then for each later step t_{i-1} twice: the correction of the step before, and its own evaluation
    const expected = [descending[0], ...descending.slice(1).flatMap((timestep) => [timestep, timestep])];
    expect(calls).toEqual(expected);
    expect(calls).toHaveLength(2 * 10 - 1);
    result.dispose();
  });
});
