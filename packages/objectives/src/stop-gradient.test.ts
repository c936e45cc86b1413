import '@tfjs-diffusion/core/register-gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { stopGradient } from './stop-gradient.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

describe('stopGradient', () => {
  it('passes values through and blocks only its own path of the gradient', () => {
    const x = tf.tensor([1, 2, 3]);
    // f(x) = sum(x^2) + sum(stop(x)^2): the gradient is 2x, not 4x
    const gradient = tf.grad((input: tf.Tensor) => tf.add(tf.sum(tf.square(input)), tf.sum(tf.square(stopGradient(input)))))(x);
    expect(Array.from(gradient.dataSync())).toEqual([2, 4, 6]);
    const value = stopGradient(x);
    expect(Array.from(value.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([x, gradient, value]);
  });
});
