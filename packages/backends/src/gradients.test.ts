import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect, it } from 'vitest';

import { registerGradients } from './gradients.js';

it('registers the gradients tf.grad needs, idempotently', async () => {
  await tf.setBackend('cpu');
  expect(tf.getGradient('Conv2D')).toBeUndefined();
  await registerGradients();
  await registerGradients();
  expect(tf.getGradient('Conv2D')).toBeDefined();
  const gradient = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2, 3])).arraySync());
  expect(gradient).toEqual([2, 4, 6]);
});
