import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { listCheckpoints, loadCheckpointFile, loadModelFile } from '@tfjs-diffusion/checkpoints/node';
import type { ImageDataset } from '@tfjs-diffusion/data';
import { createNoiseAwareClassifier } from '@tfjs-diffusion/networks';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClassifier, runClassifierTraining } from './classifier-run.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 24 images 8x8x1 in two classes: bright left half (0) or bright right half (1), with some jitter.
const DATASET: ImageDataset = (() => {
  const count = 24;
  const labels = Int32Array.from({ length: count }, (_, index) => index % 2);
  const images = Float32Array.from({ length: count * 64 }, (_, i) => {
    const [image, pixel] = [Math.floor(i / 64), i % 64];
    return (pixel % 8 < 4 === (labels[image] === 0) ? 0.7 : -0.7) + 0.2 * Math.sin(i * 1.7);
  });
  return { images, labels, count, height: 8, width: 8, channels: 1, numClasses: 2, classNames: ['left', 'right'] };
})();

const tinyClassifier = () =>
  createNoiseAwareClassifier({
    type: 'classifier',
    imageSize: 8,
    inChannels: 1,
    modelChannels: 4,
    channelMultipliers: [1],
    numResBlocks: 1,
    attentionResolutions: [],
    groupNormGroups: 2,
    numClasses: 2,
    pool: 'adaptive',
    seed: 1,
  });

const common = { dataset: DATASET, testDataset: DATASET, batchSize: 8, warmup: 0, gradClip: 1, seed: 3 };

describe('runClassifierTraining', () => {
  it('noise-aware: checkpoints every N (F32, last K kept), accuracy at three noise levels, the F16 model file with its description', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-classifier-'));
    const classifier = tinyClassifier();
    const seen: string[] = [];
    const result = await runClassifierTraining({
      ...common,
      classifier,
      schedule: { kind: 'cosine', timesteps: 20 },
      steps: 5,
      learningRate: 1e-3,
      out: join(directory, 'out', 'classifier.safetensors'),
      checkpointDirectory: join(directory, 'checkpoints'),
      checkpointEvery: 2,
      keep: 2,
      metadata: { command: 'test' },
      onCheckpoint: ({ path, lossHistory }) => void seen.push(`${basename(path)}:${lossHistory.length}`),
    });
    expect(seen).toEqual(['step-000002.safetensors:2', 'step-000004.safetensors:4', 'step-000005.safetensors:5']);
    expect((await listCheckpoints(join(directory, 'checkpoints'))).map((entry) => entry.step)).toEqual([4, 5]);
    expect(result.lossHistory).toHaveLength(5);
    expect(result.finalLoss).toBeCloseTo(result.lossHistory.reduce((a, b) => a + b, 0) / 5, 10);
    expect(Object.keys(result.accuracy)).toEqual(['clean', 't=5', 't=10', 't=15']);
    for (const value of Object.values(result.accuracy)) expect(value * 24).toBe(Math.round(value * 24));

    // The last checkpoint holds the final parameters exactly (F32); the model file in F16 within its rounding.
    const last = await loadCheckpointFile(join(directory, 'checkpoints', 'step-000005.safetensors'));
    const shipped = await loadCheckpointFile(result.out);
    expect([...shipped.tensors.values()].every((tensor) => tensor.dtype === 'F16')).toBe(true);
    for (const [name, variable] of classifier.parameters) {
      const values = Array.from(await variable.data());
      expect(Array.from(last.tensors.get(name)!.data as Float32Array), name).toEqual(values);
      const rounded = Array.from(shipped.tensors.get(name)!.data as Float32Array);
      expect(
        rounded.every((value, i) => Math.abs(value - values[i]!) <= 1e-3 * Math.max(1, Math.abs(values[i]!))),
        name,
      ).toBe(true);
    }
    const file = await loadModelFile(result.out);
    expect(file.metadata).toMatchObject({
      network: { type: 'classifier', imageSize: 8, pool: 'adaptive' },
      schedule: { kind: 'cosine', timesteps: 20 },
      prediction: null,
      conditioning: { numClasses: 2, nullClass: null, classNames: ['left', 'right'] },
      data: { shape: [8, 8, 1], range: [-1, 1] },
      weights: 'raw',
    });
    expect(file.extra).toMatchObject({ command: 'test', steps: '5', testAccuracy: JSON.stringify(result.accuracy) });
    expect((await loadModelFile(join(directory, 'checkpoints', 'step-000004.safetensors'))).extra).toMatchObject({ command: 'test', step: '4' });
    classifier.dispose();
  });

  it('clean: learns the two classes to held-out accuracy 1, no schedule in the file, no checkpoints without a directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-classifier-'));
    const classifier = tinyClassifier();
    const result = await runClassifierTraining({ ...common, classifier, steps: 30, learningRate: 1e-2, out: join(directory, 'clean.safetensors') });
    classifier.dispose();
    expect(result.accuracy).toEqual({ clean: 1 });
    expect(result.lossHistory[0]).toBeCloseTo(Math.log(2), 5); // the zero-initialised head: p = 1/2
    expect(result.lossHistory.at(-1)!).toBeLessThan(0.25);
    expect((await loadModelFile(result.out)).metadata.schedule).toBeNull();
  });

  it('describes a classifier: class names only when there is one per class', () => {
    const config = { numClasses: 3, imageSize: 4, inChannels: 3 };
    expect(describeClassifier(config, null, ['a', 'b'])).toEqual({
      network: config,
      schedule: null,
      prediction: null,
      variance: null,
      conditioning: { numClasses: 3, nullClass: null },
      data: { shape: [4, 4, 3], range: [-1, 1] },
    });
  });
});
