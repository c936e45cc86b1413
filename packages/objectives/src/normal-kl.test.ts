import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalKl } from './normal-kl.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

describe('normalKl', () => {
  it('is 0 for identical Gaussians', () => {
    const noise = createNoiseSource('kl-identical');
    const mean = tf.tensor(noise.normal([64]));
    const logVariance = tf.tensor(noise.normal([64]));
    const kl = normalKl(mean, logVariance, mean, logVariance);
    expect(Math.max(...Array.from(kl.dataSync()).map(Math.abs))).toBeLessThan(1e-6);
    tf.dispose([mean, logVariance, kl]);
  });

  it('matches the closed form log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2 on random Gaussians', () => {
    const noise = createNoiseSource('kl-random');
    const count = 200;
    const [m1, m2, l1, l2] = [0, 1, 2, 3].map(() => Array.from(noise.normal([count])));
    const kl = tf.tidy(() => normalKl(tf.tensor(m1 as number[]), tf.tensor(l1 as number[]), tf.tensor(m2 as number[]), tf.tensor(l2 as number[])));
    const values = kl.dataSync();
    for (let position = 0; position < count; position += 1) {
      const s1 = Math.exp((l1![position] as number) / 2);
      const s2 = Math.exp((l2![position] as number) / 2);
      const difference = (m1![position] as number) - (m2![position] as number);
      const expected = Math.log(s2 / s1) + (s1 * s1 + difference * difference) / (2 * s2 * s2) - 0.5;
      expect(values[position]).toBeCloseTo(expected, 3);
      expect(values[position]).toBeGreaterThanOrEqual(-1e-6);
    }
    kl.dispose();
  });

  it('broadcasts numbers against tensors and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const mean = tf.tensor([0, 1, 2]);
    const kl = normalKl(mean, 0, 0, 0);
    expect(Array.from(kl.dataSync())).toEqual([0, 0.5, 2]);
    tf.dispose([mean, kl]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
