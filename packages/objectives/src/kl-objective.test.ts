import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKlObjective } from './kl-objective.js';
import { disposeResult } from './test-utils/dispose-result.js';
import { fixedTimestepSampler } from './test-utils/fixed-timestep-sampler.js';
import { createParametricModel } from './test-utils/parametric-model.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'linear', timesteps: 50 });

describe('createKlObjective', () => {
  it('rescales the sampled term by the number of steps unless told not to', () => {
    const { model, dispose } = createParametricModel();
    const x0 = tf.tidy(() => tf.clipByValue(tf.tensor(createNoiseSource('kl').normal([4, 6]), [4, 6]), -1, 1));
    const compute = (rescaled: boolean) => {
      const result = createKlObjective({ rescaled }).compute({ model, schedule, x0, noise: createNoiseSource(2) });
      const values = { loss: result.loss.dataSync()[0] as number, vlb: result.terms.vlb?.dataSync()[0] as number };
      disposeResult(result);
      return values;
    };
    const rescaled = compute(true);
    const plain = compute(false);
    expect(rescaled.loss).toBeGreaterThan(0);
    expect(rescaled.loss / plain.loss).toBeCloseTo(50, 3);
    expect(rescaled.vlb).toBeCloseTo(rescaled.loss, 6);
    expect(createKlObjective().name).toBe('kl');
    x0.dispose();
    dispose();
  });

  it('sends gradients to both the mean and the variance (no stop-gradient)', () => {
    const { model, scale, shift, varianceLogit, dispose } = createParametricModel();
    const x0 = tf.tidy(() => tf.clipByValue(tf.tensor(createNoiseSource('kl-grad').normal([4, 6]), [4, 6]), -1, 1));
    const { value, grads } = tf.variableGrads(
      () => createKlObjective().compute({ model, schedule, x0, noise: createNoiseSource(5), timestepSampler: fixedTimestepSampler(10) }).loss,
      [scale, shift, varianceLogit],
    );
    for (const variable of [scale, shift, varianceLogit]) expect(Math.abs(grads[variable.name]?.dataSync()[0] as number)).toBeGreaterThan(1e-4);
    tf.dispose([value, ...Object.values(grads), x0]);
    dispose();
  });

  it('works with a fixed-variance model and rejects a non-boolean rescaled', () => {
    const { model, dispose } = createParametricModel('x0', 'fixed-large');
    const x0 = tf.zeros([2, 3]);
    const result = createKlObjective().compute({ model, schedule, x0, noise: createNoiseSource(1) });
    expect(Number.isFinite(result.loss.dataSync()[0])).toBe(true);
    disposeResult(result);
    x0.dispose();
    dispose();
    expect(() => createKlObjective({ rescaled: 'yes' as unknown as boolean })).toThrow(/rescaled must be true or false/);
  });
});
