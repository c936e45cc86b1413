import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './select-backend.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('splitVKernel on wasm', () => {
  it('splits on every axis like slices, and is the gradient of concat', () => {
    const x = tf.tensor(
      Array.from({ length: 2 * 3 * 4 * 5 }, (_, index) => index),
      [2, 3, 4, 5],
    );
    for (const axis of [0, 1, 2, 3]) {
      const size = x.shape[axis] as number;
      const sizes = [1, size - 1];
      const parts = tf.split(x, sizes, axis);
      parts.forEach((part, index) => {
        const begin = [0, 0, 0, 0];
        begin[axis] = index === 0 ? 0 : 1;
        const expected = tf.slice(x, begin, part.shape);
        expect(Array.from(part.dataSync())).toEqual(Array.from(expected.dataSync()));
        expected.dispose();
      });
      tf.dispose(parts);
    }
    const qkv = tf.tensor(
      Array.from({ length: 2 * 3 * 1 * 3 * 2 }, (_, index) => index),
      [2, 3, 1, 3, 2],
    );
    const [, middle] = tf.split(qkv, 3, 3);
    expect(Array.from((middle as tf.Tensor).dataSync())).toEqual([2, 3, 8, 9, 14, 15, 20, 21, 26, 27, 32, 33]);
    const gradient = tf.grad((input: tf.Tensor) =>
      tf.sum(tf.mul(tf.concat([input, tf.mul(input, 2)], 3), tf.reshape(tf.range(0, 10), [1, 1, 1, 10]))),
    )(tf.ones([1, 2, 2, 5]));
    expect(Array.from(gradient.dataSync().slice(0, 5))).toEqual([10, 13, 16, 19, 22]);
    tf.dispose([x, qkv, middle as tf.Tensor, gradient]);
  });
});
