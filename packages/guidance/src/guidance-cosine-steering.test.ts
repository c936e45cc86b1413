import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoisyClassifier } from '@tfjs-diffusion/core';
import { sampleByName, type SamplerName } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierGuidance } from './classifier-guidance.js';
import { createMixtureDenoiser, type GaussianMixture } from './test-utils/gaussian-mixture.js';

// Issue 12: on the cosine schedule aBar_T ~ 2.4e-9, so ADM Algorithm 2's guided
// x0^ = x0 + (1 - aBar) / sqrt(aBar) g is ~2e4 g at the first step. A real classifier's gradient does
// not vanish like sqrt(aBar) at pure noise (here: a clean-data classifier, which ignores t, as a
// badly calibrated noisy one does), and unbounded that shift threw DDIM's samples to +-hundreds.
// With clipDenoised the guided x0 is projected onto [-1, 1] (E[x0 | x_t, y] lies in the data's
// range), and every sampler steers without blowing up.
const full = createSchedule({ kind: 'cosine', timesteps: 1000 });
const schedule = respaceSchedule(full, 'linspace:20');
const mixture: GaussianMixture = { means: [-0.5, 0.5], stds: [0.15, 0.15], weights: [0.5, 0.5] };
const count = 400;

/** p(y | x) of the clean mixture, whatever t: logits log pi_k - (x - mu_k)^2 / (2 s^2). */
const cleanClassifier: NoisyClassifier = {
  numClasses: 2,
  logits: ({ x }) =>
    tf.tidy(() => {
      const flat = tf.reshape(x, [-1, 1]);
      const means = tf.tensor2d([mixture.means.slice()]);
      return tf.neg(tf.div(tf.square(tf.sub(flat, means)), 2 * 0.15 * 0.15)) as tf.Tensor2D;
    }),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function sampleWith(sampler: SamplerName, scale: number): Promise<Float32Array> {
  const model = createMixtureDenoiser({ mixture, alphaBars: full.alphaBars, mode: 'unconditional' });
  const classLabels = tf.fill([count], 1, 'int32') as tf.Tensor1D;
  const before = tf.memory().numTensors;
  const x = await sampleByName(sampler, {
    model: classifierGuidance({ classifier: cleanClassifier, scale })(model),
    schedule,
    shape: [count, 1],
    noise: createNoiseSource(`steer ${sampler}`),
    condition: { classLabels },
    clipDenoised: true,
  });
  const values = x.dataSync() as Float32Array;
  x.dispose();
  expect(tf.memory().numTensors).toBe(before);
  classLabels.dispose();
  return values;
}

const share = (values: Float32Array, test: (value: number) => boolean): number => values.filter(test).length / values.length;

describe('classifier guidance on the cosine schedule (clipped guided x0)', () => {
  it.each(['ddim', 'ddpm', 'euler', 'dpm-solver-plus-plus-2m'] as const)(
    '%s: steers to the requested class and stays in the data range',
    async (sampler) => {
      const unguided = await sampleWith(sampler, 0);
      const guided = await sampleWith(sampler, 1);
      // without guidance both classes, with it (almost) only class 1
      expect(share(unguided, (value) => value > 0)).toBeGreaterThan(0.35);
      expect(share(unguided, (value) => value > 0)).toBeLessThan(0.65);
      expect(share(guided, (value) => value > 0)).toBeGreaterThan(0.97);
      // finite, in [-1, 1] and on the class's component, not a saturated blob at the clip bound
      expect(guided.every((value) => Number.isFinite(value) && Math.abs(value) <= 1 + 1e-5)).toBe(true);
      expect(share(guided, (value) => Math.abs(value - 0.5) < 0.45)).toBeGreaterThan(0.95);
    },
  );
});
