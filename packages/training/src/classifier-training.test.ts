import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { ImageDataset } from '@tfjs-diffusion/data';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierAccuracy, trainClassifier, type TrainableClassifier } from './classifier-training.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 40 images 4x4x1 in two classes: bright left half (0) or bright right half (1), with some noise.
const DATASET: ImageDataset = (() => {
  const count = 40;
  const labels = Int32Array.from({ length: count }, (_, index) => index % 2);
  const images = Float32Array.from({ length: count * 16 }, (_, i) => {
    const [image, pixel] = [Math.floor(i / 16), i % 16];
    return (pixel % 4 < 2 === (labels[image] === 0) ? 0.7 : -0.7) + 0.2 * Math.sin(i * 1.7);
  });
  return { images, labels, count, height: 4, width: 4, channels: 1, numClasses: 2 };
})();

/** Logistic regression on the pixels (timesteps ignored). */
function linearClassifier(): TrainableClassifier & { dispose(): void } {
  const parameters = new Map([
    ['weight', tf.variable(tf.zeros([16, 2]))],
    ['bias', tf.variable(tf.zeros([2]))],
  ]);
  return {
    numClasses: 2,
    parameters,
    logits: ({ x }) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [-1, 16]), parameters.get('weight')!), parameters.get('bias')!)) as tf.Tensor2D,
    dispose: () => parameters.forEach((variable) => variable.dispose()),
  };
}

describe('trainClassifier', () => {
  it('learns clean images (loss from ln 2 down, accuracy 1) and is seeded', async () => {
    const run = async () => {
      const classifier = linearClassifier();
      const losses = await trainClassifier({
        classifier,
        dataset: DATASET,
        mode: 'clean',
        steps: 30,
        batchSize: 8,
        learningRate: 0.05,
        warmup: 0,
        gradClip: 0,
        seed: 1,
      });
      const accuracy = await classifierAccuracy(classifier, DATASET);
      classifier.dispose();
      return { losses, accuracy };
    };
    const first = await run();
    expect(first.losses).toHaveLength(30);
    expect(first.losses[0]).toBeCloseTo(Math.log(2), 6); // zero weights: p = 1/2
    expect(first.losses.at(-1)!).toBeLessThan(0.1);
    expect(first.accuracy).toBe(1);
    expect((await run()).losses).toEqual(first.losses);
  });

  it('on noised images at late timesteps the task gets harder (noise-aware training)', async () => {
    const schedule = createSchedule({ kind: 'cosine', timesteps: 100 });
    const classifier = linearClassifier();
    await trainClassifier({
      classifier,
      dataset: DATASET,
      mode: 'noisy',
      schedule,
      steps: 30,
      batchSize: 8,
      learningRate: 0.05,
      warmup: 0,
      gradClip: 1,
      seed: 2,
    });
    const early = await classifierAccuracy(classifier, DATASET, { schedule, index: 5, seed: 3 });
    const late = await classifierAccuracy(classifier, DATASET, { schedule, index: 99, seed: 3 });
    classifier.dispose();
    expect(early).toBeGreaterThanOrEqual(0.9);
    expect(late).toBeLessThan(early);
  });
});
