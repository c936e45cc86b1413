import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardDiffuse } from './forward-diffuse.js';
import { createHybridObjective } from './hybrid-objective.js';
import { disposeResult } from './test-utils/dispose-result.js';
import { fixedTimestepSampler } from './test-utils/fixed-timestep-sampler.js';
import { createParametricModel } from './test-utils/parametric-model.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';
import { vlbTerms } from './vlb-terms.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'linear', timesteps: 100 });

function data(): tf.Tensor {
  const noise = createNoiseSource('hybrid-data');
  return tf.clipByValue(tf.tensor(noise.normal([6, 10]), [6, 10]), -1, 1);
}

describe('createHybridObjective', () => {
  it('is mse + lambda N L_t, with terms that add up to the loss', () => {
    const { model, dispose } = createParametricModel();
    const x0 = data();
    const index = 37;
    const vlbWeight = 0.01;
    const result = createHybridObjective({ vlbWeight }).compute({
      model,
      schedule,
      x0,
      noise: createNoiseSource(3),
      timestepSampler: fixedTimestepSampler(index),
    });
    expect(createHybridObjective().name).toBe('hybrid');
    // recompute L_t from the same draws: the fixed sampler draws nothing, then eps of x0's shape
    const expectedVlb = tf.tidy(() => {
      const indices = new Int32Array(6).fill(index);
      const epsilon = tf.tensor(createNoiseSource(3).normal([6, 10]), [6, 10]);
      const xt = forwardDiffuse(schedule, x0, indices, epsilon);
      const output = model.predict({ x: xt, timesteps: tf.fill([6], index) as tf.Tensor1D });
      return tf.mean(vlbTerms({ model, schedule, x0, xt, indices, output }).bits).dataSync()[0] as number;
    });
    const loss = result.loss.dataSync()[0] as number;
    const mse = result.terms.mse?.dataSync()[0] as number;
    const vlb = result.terms.vlb?.dataSync()[0] as number;
    expect(vlb).toBeCloseTo(vlbWeight * 100 * expectedVlb, 5);
    expect(loss).toBeCloseTo(mse + vlb, 5);
    const perSample = Array.from(result.perSampleLoss.dataSync());
    expect(perSample.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(loss, 5);
    disposeResult(result);
    x0.dispose();
    dispose();
  });

  it('trains only the variance through L_vlb: zero gradient to the mean, non-zero to the variance', () => {
    const { model, scale, shift, varianceLogit, dispose } = createParametricModel();
    const x0 = data();
    const before = tf.memory().numTensors;
    const objective = createHybridObjective();
    const input = { model, schedule, x0, timestepSampler: fixedTimestepSampler(20) };
    const gradientOf = (term: 'mse' | 'vlb') => {
      const { value, grads } = tf.variableGrads(
        () => objective.compute({ ...input, noise: createNoiseSource(8) }).terms[term] as tf.Scalar,
        [scale, shift, varianceLogit],
      );
      const read = (name: string): number => grads[name]?.dataSync()[0] ?? 0;
      const values = { scale: read(scale.name), shift: read(shift.name), varianceLogit: read(varianceLogit.name) };
      tf.dispose([value, ...Object.values(grads)]);
      return values;
    };
    const vlbGradient = gradientOf('vlb');
    expect(vlbGradient.scale).toBe(0);
    expect(vlbGradient.shift).toBe(0);
    expect(Math.abs(vlbGradient.varianceLogit)).toBeGreaterThan(1e-4);
    const mseGradient = gradientOf('mse');
    expect(Math.abs(mseGradient.scale)).toBeGreaterThan(1e-4);
    expect(mseGradient.varianceLogit).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    dispose();
  });

  it('refuses a model with a fixed variance, naming the fix', () => {
    const { model, dispose } = createParametricModel('epsilon', 'fixed-small');
    const x0 = data();
    expect(() => createHybridObjective().compute({ model, schedule, x0, noise: createNoiseSource(1) })).toThrow(
      /needs a model with variance 'learned-range', but this model's variance is 'fixed-small'/,
    );
    expect(() => createHybridObjective({ vlbWeight: -1 })).toThrow(/vlbWeight must be a finite number >= 0/);
    x0.dispose();
    dispose();
  });
});
