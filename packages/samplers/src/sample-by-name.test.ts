import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, DiffusionError } from '@tfjs-diffusion/core';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDdim } from './ddim.js';
import { sampleEulerAncestral } from './euler-ancestral.js';
import { sampleHeun } from './heun.js';
import { SAMPLER_NAMES, sampleByName, type SamplerName } from './sample-by-name.js';
import { gaussianModel } from './test-utils/exact-models.js';

const full = createSchedule({ kind: 'cosine', timesteps: 100 });
const schedule = respaceSchedule(full, 'linspace:8');
const model = gaussianModel(full, { mean: [0.3, -0.2], std: 0.5 });
const shape = [16, 2];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function values(run: () => Promise<tf.Tensor>): Promise<Float32Array> {
  const result = await run();
  const data = (await result.data()) as Float32Array;
  result.dispose();
  return data;
}

describe('sampleByName', () => {
  it('runs the named sampler with its own options: the same values as calling it directly', async () => {
    const common = () => ({ model, schedule, shape, noise: createNoiseSource(4) });
    expect(await values(() => sampleByName('ddim', common(), { eta: 0.5 }))).toEqual(await values(() => sampleDdim({ ...common(), eta: 0.5 })));
    expect(await values(() => sampleByName('euler-ancestral', { ...common(), schedule: full }, { eta: 0.3, karrasSteps: 6 }))).toEqual(
      await values(() => sampleEulerAncestral({ ...common(), schedule: full, eta: 0.3, sigmas: 'karras', steps: 6 })),
    );
    expect(await values(() => sampleByName('heun', common()))).toEqual(await values(() => sampleHeun(common())));
  });

  it('runs every sampler of SAMPLER_NAMES without leaking tensors, and names an unknown one', async () => {
    const before = tf.memory().numTensors;
    for (const name of SAMPLER_NAMES) {
      const data = await values(() =>
        sampleByName(name, { model, schedule, shape, noise: createNoiseSource(1) }, { eta: 0.5, karrasSteps: 5, trainingSchedule: full }),
      );
      expect(data.every(Number.isFinite), name).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => sampleByName('plms' as SamplerName, { model, schedule, shape, noise: createNoiseSource(1) })).toThrow(DiffusionError);
    expect(() => sampleByName('plms' as SamplerName, { model, schedule, shape, noise: createNoiseSource(1) })).toThrow(
      /sampler 'plms' is not one of ddpm, ddim, euler/,
    );
  });
});
