import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, toX0AndEpsilon, type DiffusionModel, type ModelOutput } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFreeGuidance } from './classifier-free-guidance.js';
import { countCalls, createMixtureDenoiser, linearAlphaBars, type GaussianMixture } from './test-utils/gaussian-mixture.js';

const mixture: GaussianMixture = { means: [-1.5, 1.5], stds: [0.3, 0.3], weights: [0.8, 0.2] };
const alphaBars = linearAlphaBars(1000);

const x = (): tf.Tensor => tf.tensor2d([[-2], [-0.4], [0.1], [0.7], [1.9], [3]]);
const timesteps = (): tf.Tensor1D => tf.tensor1d([999, 700, 500, 250, 60, 5]);
const labels = (): tf.Tensor1D => tf.tensor1d([1, 0, 1, 1, 0, 1], 'int32');

function values(tensor: tf.Tensor): number[] {
  return Array.from(tensor.dataSync());
}

function predictWith(model: DiffusionModel, classLabels: tf.Tensor1D): ModelOutput {
  return model.predict({ x: x(), timesteps: timesteps(), condition: { classLabels } });
}

describe('classifierFreeGuidance', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('with w = 0 is exactly the conditional model, in one call without a doubled batch', () => {
    const base = createMixtureDenoiser({ mixture, alphaBars });
    const counted = countCalls(base);
    const guided = classifierFreeGuidance({ scale: 0 })(counted.model);
    tf.tidy(() => {
      const expected = predictWith(base, labels()).prediction;
      const actual = predictWith(guided, labels()).prediction;
      expect(values(actual)).toEqual(values(expected));
    });
    expect(counted.batchSizes).toEqual([6]);
  });

  it('with w = 1 gives 2 eps(x, c) - eps(x, null), from ONE call on a doubled batch', () => {
    const base = createMixtureDenoiser({ mixture, alphaBars });
    const counted = countCalls(base);
    const guided = classifierFreeGuidance({ scale: 1 })(counted.model);
    tf.tidy(() => {
      const conditional = predictWith(base, labels()).prediction;
      const unconditional = predictWith(base, tf.fill([6], 2, 'int32') as tf.Tensor1D).prediction;
      const actual = values(predictWith(guided, labels()).prediction);
      const expected = values(tf.sub(tf.mul(2, conditional), unconditional));
      actual.forEach((value, position) => expect(value).toBeCloseTo(expected[position] as number, 6));
      // Guidance really moves the prediction where the two branches differ.
      expect(Math.max(...values(tf.abs(tf.sub(conditional, unconditional))))).toBeGreaterThan(0.1);
    });
    expect(counted.batchSizes).toEqual([12]);
    tf.tidy(() => {
      predictWith(guided, labels());
      predictWith(guided, labels());
    });
    expect(counted.batchSizes).toEqual([12, 12, 12]);
  });

  it('gives (1 + w) eps_c - w eps_u for a general w', () => {
    const base = createMixtureDenoiser({ mixture, alphaBars });
    const w = 3.5;
    tf.tidy(() => {
      const conditional = predictWith(base, labels()).prediction;
      const unconditional = predictWith(base, tf.fill([6], 2, 'int32') as tf.Tensor1D).prediction;
      const expected = values(tf.sub(tf.mul(1 + w, conditional), tf.mul(w, unconditional)));
      const actual = values(predictWith(classifierFreeGuidance({ scale: w })(base), labels()).prediction);
      actual.forEach((value, position) => expect(value).toBeCloseTo(expected[position] as number, 5));
    });
  });

  it('guides x0- and v-models to the same epsilon as the epsilon model (linearity)', () => {
    const w = 2;
    tf.tidy(() => {
      const alphaBar = tf.reshape(tf.gather(tf.tensor1d(Float32Array.from(alphaBars)), tf.cast(timesteps(), 'int32')), [-1, 1]);
      const fromEpsilon = values(
        predictWith(classifierFreeGuidance({ scale: w })(createMixtureDenoiser({ mixture, alphaBars })), labels()).prediction,
      );
      for (const kind of ['x0', 'v'] as const) {
        const model = classifierFreeGuidance({ scale: w })(createMixtureDenoiser({ mixture, alphaBars, prediction: kind }));
        const guided = predictWith(model, labels()).prediction;
        const { epsilon } = toX0AndEpsilon(kind, guided, x(), alphaBar);
        values(epsilon).forEach((value, position) => expect(Math.abs(value - (fromEpsilon[position] as number))).toBeLessThan(1e-4));
      }
    });
  });

  it('takes learned-range variance values from the conditional branch', () => {
    const model = classifierFreeGuidance({ scale: 2 })(createMixtureDenoiser({ mixture, alphaBars, variance: 'learned-range' }));
    expect(model.variance).toBe('learned-range');
    tf.tidy(() => {
      const output = predictWith(model, labels());
      // The toy model returns label / K - 0.5: -0.5 for class 0, 0 for class 1, 0.5 for the null class.
      expect(values(output.varianceValues as tf.Tensor)).toEqual([0, -0.5, 0, 0, -0.5, 0]);
    });
  });

  it('passes a guidance gradient set further in through (combined like eps)', () => {
    const base = createMixtureDenoiser({ mixture, alphaBars });
    // A gradient that does not depend on the label: the CFG combination (1 + w) g - w g is g itself.
    const withGradient: DiffusionModel = {
      ...base,
      predict: (input) => tf.tidy(() => ({ ...base.predict(input), guidanceGradient: tf.mul(input.x, 0.25) })) as ModelOutput,
    };
    const guided = classifierFreeGuidance({ scale: 4 })(withGradient);
    tf.tidy(() => {
      const gradient = predictWith(guided, labels()).guidanceGradient as tf.Tensor;
      values(gradient).forEach((value, position) => expect(value).toBeCloseTo((values(x())[position] as number) * 0.25, 5));
    });
    expect(predictWith(classifierFreeGuidance({ scale: 4 })(base), labels()).guidanceGradient).toBeUndefined();
  });

  it('rejects a model without a nullClass, missing labels and a bad scale with named errors', () => {
    const withoutNull = createMixtureDenoiser({ mixture, alphaBars, withoutNullClass: true });
    expect(() => classifierFreeGuidance({ scale: 1 })(withoutNull)).toThrow(DiffusionError);
    expect(() => classifierFreeGuidance({ scale: 1 })(withoutNull)).toThrow(/nullClass/);
    const unconditional: DiffusionModel = { ...withoutNull, conditioning: null };
    expect(() => classifierFreeGuidance({ scale: 1 })(unconditional)).toThrow(/unconditional/);

    const guided = classifierFreeGuidance({ scale: 1 })(createMixtureDenoiser({ mixture, alphaBars }));
    tf.tidy(() => {
      expect(() => guided.predict({ x: x(), timesteps: timesteps() })).toThrow(/classLabels/);
      expect(() => predictWith(guided, tf.tensor1d([0, 1], 'int32'))).toThrow(/shape \[6\]/);
      expect(() => predictWith(guided, tf.tensor1d([0, 1, 0, 1, 0, 1], 'float32'))).toThrow(/int32/);
    });
    expect(() => classifierFreeGuidance({ scale: -1 })).toThrow(/scale/);
    expect(() => classifierFreeGuidance({ scale: Number.NaN })).toThrow(/scale/);
  });

  it('leaves no tensor behind inside tf.tidy, and only its outputs outside', () => {
    const guided = classifierFreeGuidance({ scale: 3 })(createMixtureDenoiser({ mixture, alphaBars, variance: 'learned-range' }));
    const inputs = { x: x(), timesteps: timesteps(), condition: { classLabels: labels() } };
    // Warm up (kernels may cache constants on first use).
    tf.tidy(() => {
      guided.predict(inputs);
    });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      guided.predict(inputs);
    });
    expect(tf.memory().numTensors).toBe(before);
    const output = guided.predict(inputs);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([output.prediction, output.varianceValues as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([inputs.x, inputs.timesteps, inputs.condition.classLabels]);
  });
});
