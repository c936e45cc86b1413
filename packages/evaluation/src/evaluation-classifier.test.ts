import { fileURLToPath } from 'node:url';
import { selectBackend } from '@tfjs-diffusion/backends';
import { loadMnist } from '@tfjs-diffusion/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEvaluationClassifier } from './evaluation-classifier.js';
import { loadEvaluationClassifier } from './node.js';
import { classifierStatistics, compareToReference } from './sample-statistics.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const SHIPPED = fileURLToPath(new URL('../../../models/mnist-evaluation-classifier.safetensors', import.meta.url));

describe('the evaluation classifier', () => {
  it('loads the shipped models/mnist-evaluation-classifier.safetensors and reads held-out digits', async () => {
    const classifier = await loadEvaluationClassifier(SHIPPED);
    try {
      expect(classifier.config).toMatchObject({ type: 'evaluation-classifier', imageSize: 28, featureDimension: 128, numClasses: 10 });
      const test = await loadMnist({ split: 'test' });
      const count = 100;
      const images = test.images.subarray(0, count * 784);
      const labels = test.labels.subarray(0, count);
      const digits = await classifierStatistics(classifier, images, [28, 28, 1], 50);
      // the same digits as reference: FID 0; the shipped file states 0.974 held-out accuracy
      const metrics = compareToReference(digits, digits, labels);
      expect(metrics.fid).toBeLessThan(1e-6);
      expect(metrics.classAccuracy).toBeGreaterThan(0.93);
      expect(metrics.inceptionScore).toBeGreaterThan(7);
      expect(metrics.diversity).toBeGreaterThan(0);
      // against other digits the distance is positive; against noise far larger
      const others = await classifierStatistics(classifier, test.images.subarray(count * 784, 2 * count * 784), [28, 28, 1]);
      const noise = await classifierStatistics(
        classifier,
        Float32Array.from({ length: count * 784 }, (_, i) => Math.sin(i * 12.9898) * 0.9),
        [28, 28, 1],
      );
      const real = compareToReference(others, digits, null).fid;
      expect(real).toBeGreaterThan(0);
      expect(compareToReference(noise, digits, null).fid).toBeGreaterThan(5 * real);
    } finally {
      classifier.dispose();
    }
  });

  it('refuses configs it cannot build and model files of another network', async () => {
    expect(() =>
      createEvaluationClassifier({
        type: 'evaluation-classifier',
        imageSize: 30,
        inChannels: 1,
        numClasses: 10,
        channels: [4, 4, 4],
        featureDimension: 8,
        seed: 0,
      }),
    ).toThrow(/imageSize divisible by 4/);
    await expect(loadEvaluationClassifier(fileURLToPath(new URL('../../../models/mnist-classifier.safetensors', import.meta.url)))).rejects.toThrow(
      /mnist-classifier\.safetensors holds a "classifier" network, not an evaluation classifier/,
    );
  });
});
