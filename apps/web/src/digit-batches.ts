import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import type { BatchSource } from '@tfjs-diffusion/training';
import { MNIST_PIXELS, type MnistDigits } from './mnist-digits.js';

/**
 * Seeded random mini-batches of the bundled digits, flattened to [batch, 784] and scaled to
 * [-1, 1] (the data range of DDPM), with their class labels when `withLabels`.
 */
export function digitBatches(digits: MnistDigits, batchSize: number, seed: number | string, withLabels = true): BatchSource {
  const noise = createNoiseSource(`${String(seed)}/data`);
  return {
    next() {
      const indices = noise.integers(batchSize, digits.count);
      const images = new Float32Array(batchSize * MNIST_PIXELS);
      const classLabels = new Int32Array(batchSize);
      indices.forEach((digit, position) => {
        classLabels[position] = digits.labels[digit] as number;
        const source = digits.pixels.subarray(digit * MNIST_PIXELS, (digit + 1) * MNIST_PIXELS);
        for (let pixel = 0; pixel < MNIST_PIXELS; pixel += 1) images[position * MNIST_PIXELS + pixel] = ((source[pixel] as number) / 255) * 2 - 1;
      });
      return { x0: tf.tensor2d(images, [batchSize, MNIST_PIXELS]), ...(withLabels ? { classLabels } : {}) };
    },
  };
}
