import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEma } from './ema.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';

beforeAll(useCpuBackend);

describe('createEma', () => {
  it('computes shadow = decay * shadow + (1 - decay) * parameter and copies it out', () => {
    const initial = tf.memory().numTensors;
    const weight = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
    const parameters = new Map([['w', weight]]);
    const ema = createEma(parameters, 0.9);
    expect(Array.from(ema.shadowParameters.get('w')?.dataSync() ?? [])).toEqual([1, 2]);
    tf.tidy(() => weight.assign(tf.tensor1d([11, 12])));
    ema.update();
    // 0.9 * [1, 2] + 0.1 * [11, 12] = [2, 3]
    const first = Array.from(ema.shadowParameters.get('w')?.dataSync() ?? []);
    expect(first[0]).toBeCloseTo(2, 5);
    expect(first[1]).toBeCloseTo(3, 5);
    ema.update();
    // 0.9 * [2, 3] + 0.1 * [11, 12] = [2.9, 3.9]
    expect(ema.shadowParameters.get('w')?.dataSync()[0]).toBeCloseTo(2.9, 5);
    expect(Array.from(weight.dataSync())).toEqual([11, 12]);
    const target = tf.tidy(() => tf.variable(tf.zeros([2])));
    ema.copyTo(new Map([['w', target]]));
    expect(target.dataSync()[1]).toBeCloseTo(3.9, 5);
    ema.update();
    expect(target.dataSync()[1]).toBeCloseTo(3.9, 5);
    ema.dispose();
    tf.dispose([weight, target]);
    expect(tf.memory().numTensors).toBe(initial);
  });

  it('validates decay and the copy target', () => {
    const weight = tf.variable(tf.zeros([2]));
    const parameters = new Map([['w', weight]]);
    for (const decay of [0, 1, -0.5, Number.NaN]) {
      expect(catchDiffusionError(() => createEma(parameters, decay), 'invalid-argument').message).toMatch(/decay must be in \(0, 1\)/);
    }
    const ema = createEma(parameters, 0.999);
    expect(catchDiffusionError(() => ema.copyTo(new Map()), 'invalid-argument').message).toMatch(/no parameter "w"/);
    const wrong = tf.variable(tf.zeros([3]));
    catchDiffusionError(() => ema.copyTo(new Map([['w', wrong]])), 'invalid-shape');
    ema.dispose();
    tf.dispose([weight, wrong]);
  });
});
