import * as tf from '@tensorflow/tfjs-core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { priorBitsPerDim } from './prior-bits-per-dim.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

describe('priorBitsPerDim', () => {
  it('is KL(N(sqrt(aBar_T) x0, 1 - aBar_T) || N(0, 1)) per dimension in bits', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });
    const alphaBar = schedule.alphaBars[999] as number;
    expect(alphaBar).toBeCloseTo(4.0358e-5, 8);
    const values = tf.tidy(() =>
      priorBitsPerDim(
        schedule,
        tf.tensor([
          [0, 0],
          [1, -1],
        ]),
      ).dataSync(),
    );
    const closedForm = (x: number): number => (0.5 * (-1 - Math.log(1 - alphaBar) + (1 - alphaBar) + alphaBar * x * x)) / Math.LN2;
    expect(values[0]).toBeCloseTo(closedForm(0), 8);
    expect(values[1]).toBeCloseTo(closedForm(1), 8);
    expect(values[1]).toBeGreaterThan(values[0] as number);
  });

  it('is large for a schedule that does not reach noise', () => {
    const short = createSchedule({ kind: 'linear', timesteps: 1000, betaEnd: 1e-4, scaleWithTimesteps: false });
    const value = tf.tidy(() => priorBitsPerDim(short, tf.ones([1, 4])).dataSync()[0] as number);
    expect(value).toBeGreaterThan(1);
  });
});
