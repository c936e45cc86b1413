import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEma, emaDecayAt } from './ema.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';

beforeAll(useCpuBackend);

describe('createEma', () => {
  it('computes shadow = decay * shadow + (1 - decay) * parameter and copies it out', () => {
    const initial = tf.memory().numTensors;
    const weight = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
    const parameters = new Map([['w', weight]]);
    const ema = createEma(parameters, 0.9, { warmup: false });
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

  it('warms up with min(decay, (1 + n) / (10 + n)) and resumes from its update count exactly', () => {
    expect([0, 1, 8, 90, 10_000].map((n) => emaDecayAt(0.999, n))).toEqual([0.1, 2 / 11, 9 / 18, 91 / 100, 0.999]);
    expect(emaDecayAt(0.999, 0, false)).toBe(0.999);
    const weight = tf.variable(tf.tensor1d([0]));
    const ema = createEma(new Map([['w', weight]]), 0.99);
    // float64 reference of the same recursion
    let reference = 0;
    for (let n = 0; n < 5; n += 1) {
      tf.tidy(() => weight.assign(tf.tensor1d([n + 1])));
      expect(ema.nextDecay()).toBe(Math.min(0.99, (1 + n) / (10 + n)));
      ema.update();
      const d = Math.min(0.99, (1 + n) / (10 + n));
      reference = d * reference + (1 - d) * (n + 1);
    }
    expect(ema.updates).toBe(5);
    expect(ema.shadowParameters.get('w')!.dataSync()[0]).toBeCloseTo(reference, 5);
    // the first update with warm-up keeps 10 % of the initialisation, not 99 %
    const fresh = createEma(new Map([['w', weight]]), 0.99);
    tf.tidy(() => weight.assign(tf.tensor1d([10])));
    fresh.update();
    expect(fresh.shadowParameters.get('w')!.dataSync()[0]).toBeCloseTo(0.1 * 5 + 0.9 * 10, 5);
    fresh.setState(ema.getState());
    expect(fresh.nextDecay()).toBe(ema.nextDecay());
    expect(() => fresh.setState({ updates: -1 })).toThrow(/updates must be a non-negative integer/);
    tf.dispose([weight]);
    ema.dispose();
    fresh.dispose();
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
