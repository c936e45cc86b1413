import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptiveGroupNorm } from './adaptive-group-norm.js';
import { groupNorm } from './group-norm.js';
import { ParameterStore } from './parameter-store.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import {
  compareInputGradient,
  compareVariableGradient,
  projectToScalar,
  randomTensor,
  randomizeParameters,
  gradientsAgree,
} from './test-utils/gradient-check.js';

beforeAll(useCpuBackend);

/** GroupNorm written out with loops in float64, NHWC. */
function naiveGroupNorm(values: Float32Array, shape: number[], groups: number): Float64Array {
  const [batch, height, width, channels] = shape as [number, number, number, number];
  const perGroup = channels / groups;
  const output = new Float64Array(values.length);
  for (let b = 0; b < batch; b += 1) {
    for (let g = 0; g < groups; g += 1) {
      const indices: number[] = [];
      for (let p = 0; p < height * width; p += 1) {
        for (let c = g * perGroup; c < (g + 1) * perGroup; c += 1) indices.push((b * height * width + p) * channels + c);
      }
      const mean = indices.reduce((sum, index) => sum + (values[index] as number), 0) / indices.length;
      const variance = indices.reduce((sum, index) => sum + ((values[index] as number) - mean) ** 2, 0) / indices.length;
      for (const index of indices) output[index] = ((values[index] as number) - mean) / Math.sqrt(variance + 1e-5);
    }
  }
  return output;
}

describe('groupNorm', () => {
  it('matches a loop implementation (biased variance, eps 1e-5)', () => {
    const shape = [2, 3, 3, 8];
    const x = randomTensor(shape, 'gn', 2);
    const expected = naiveGroupNorm(x.dataSync() as Float32Array, shape, 4);
    const actual = tf.tidy(() => groupNorm(x as tf.Tensor4D, 4).dataSync());
    actual.forEach((value, index) => expect(value).toBeCloseTo(expected[index] as number, 4));
    x.dispose();
  });

  it('has gradients that agree with finite differences (input, gamma and beta)', () => {
    const store = new ParameterStore(0);
    const parameters = store.groupNorm('norm', 8, 4);
    randomizeParameters(store.parameters, 'gn-params', 0.5);
    const x = randomTensor([2, 4, 4, 8], 'gn-x');
    const f = (input: tf.Tensor): tf.Scalar => projectToScalar(groupNorm(input as tf.Tensor4D, 4, parameters), 'gn-w');
    expect(gradientsAgree(compareInputGradient(f, x))).toBe(true);
    const loss = (): tf.Scalar => f(x);
    expect(gradientsAgree(compareVariableGradient(loss, parameters.weight))).toBe(true);
    expect(gradientsAgree(compareVariableGradient(loss, parameters.bias))).toBe(true);
    x.dispose();
    store.dispose();
  });
});

describe('adaptiveGroupNorm (AdaGN)', () => {
  it('computes GroupNorm(h) * (1 + scale) + shift', () => {
    const store = new ParameterStore(0);
    const parameters = store.groupNorm('norm', 4, 2);
    const x = randomTensor([2, 2, 2, 4], 'adagn') as tf.Tensor4D;
    const scaleShift = tf.tensor2d([
      [0.5, -1, 0, 2, 1, 2, 3, 4],
      [0, 0, 0, 0, -1, -1, -1, -1],
    ]);
    const [actual, expected] = tf.tidy(() => {
      const normalized = groupNorm(x, 2);
      const scale = tf.reshape(tf.slice(scaleShift, [0, 0], [2, 4]), [2, 1, 1, 4]);
      const shift = tf.reshape(tf.slice(scaleShift, [0, 4], [2, 4]), [2, 1, 1, 4]);
      return [adaptiveGroupNorm(x, parameters, scaleShift).dataSync(), tf.add(tf.mul(normalized, tf.add(scale, 1)), shift).dataSync()];
    });
    actual.forEach((value, index) => expect(value).toBeCloseTo(expected[index] as number, 5));
    tf.dispose([x, scaleShift]);
    store.dispose();
  });

  it('has gradients that agree with finite differences (input and scale-shift)', () => {
    const store = new ParameterStore(0);
    const parameters = store.groupNorm('norm', 8, 2);
    randomizeParameters(store.parameters, 'adagn-params', 0.5);
    const x = randomTensor([2, 3, 3, 8], 'adagn-x');
    const scaleShift = randomTensor([2, 16], 'adagn-ss', 0.5);
    const ofInput = (input: tf.Tensor): tf.Scalar =>
      projectToScalar(adaptiveGroupNorm(input as tf.Tensor4D, parameters, scaleShift as tf.Tensor2D), 'adagn-w');
    const ofScaleShift = (input: tf.Tensor): tf.Scalar =>
      projectToScalar(adaptiveGroupNorm(x as tf.Tensor4D, parameters, input as tf.Tensor2D), 'adagn-w');
    expect(gradientsAgree(compareInputGradient(ofInput, x))).toBe(true);
    expect(gradientsAgree(compareInputGradient(ofScaleShift, scaleShift))).toBe(true);
    tf.dispose([x, scaleShift]);
    store.dispose();
  });
});
