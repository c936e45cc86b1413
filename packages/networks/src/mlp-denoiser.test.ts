import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters } from './count-parameters.js';
import { createMlpDenoiser, resolveMlpDenoiserConfig } from './mlp-denoiser.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';
import { randomTensor } from './test-utils/gradient-check.js';

beforeAll(useCpuBackend);

describe('createMlpDenoiser', () => {
  it('resolves its defaults and counts its parameters', () => {
    const model = createMlpDenoiser({ dataDimension: 2 });
    expect(model.config).toEqual({
      type: 'mlp',
      dataDimension: 2,
      hiddenSize: 128,
      hiddenLayers: 3,
      timeEmbeddingDimension: 32,
      numClasses: null,
      zeroInitOutput: false,
      prediction: 'epsilon',
      variance: 'fixed-large',
      seed: 0,
    });
    // time MLP (32*128 + 128 + 128*128 + 128) + input (2*128 + 128) + 3 blocks of 3 (128*128 + 128) + output (128*2 + 2)
    expect(countParameters(model)).toBe(32 * 128 + 128 + 128 * 128 + 128 + 2 * 128 + 128 + 9 * (128 * 128 + 128) + 128 * 2 + 2);
    model.dispose();
  });

  it('predicts [batch, dataDimension], splits learned-range and conditions on classes with a null class', () => {
    const model = createMlpDenoiser({ dataDimension: 2, hiddenSize: 16, hiddenLayers: 2, numClasses: 4, variance: 'learned-range', seed: 1 });
    expect(model.conditioning).toEqual({ kind: 'class', numClasses: 4, nullClass: 4 });
    expect(model.parameters.get('label_emb.weight')?.shape).toEqual([5, 16]);
    const x = randomTensor([3, 2], 'mlp-x');
    const timesteps = tf.tensor1d([0, 10, 999]);
    const run = (labels: number[]): { prediction: number[]; variance: number[] } =>
      tf.tidy(() => {
        const output = model.predict({ x, timesteps, condition: { classLabels: tf.tensor1d(labels, 'int32') } });
        expect(output.prediction.shape).toEqual([3, 2]);
        expect(output.varianceValues?.shape).toEqual([3, 2]);
        return { prediction: Array.from(output.prediction.dataSync()), variance: Array.from(output.varianceValues?.dataSync() ?? []) };
      });
    const nullClass = run([4, 4, 4]);
    expect(run([4, 4, 4])).toEqual(nullClass);
    expect(run([0, 1, 2]).prediction).not.toEqual(nullClass.prediction);
    expect(nullClass.prediction).not.toEqual(nullClass.variance);
    tf.dispose([x, timesteps]);
    model.dispose();
  });

  it('starts at zero with zeroInitOutput and validates inputs and config', () => {
    const model = createMlpDenoiser({ type: 'mlp', dataDimension: 3, hiddenSize: 8, zeroInitOutput: true, prediction: 'x0' });
    const x = randomTensor([2, 3], 'mlp-zero');
    const timesteps = tf.tensor1d([5, 6]);
    const prediction = tf.tidy(() => Array.from(model.predict({ x, timesteps }).prediction.dataSync()));
    expect(prediction.every((value) => value === 0)).toBe(true);
    const wrong = tf.zeros([2, 2]);
    expect(catchDiffusionError(() => model.predict({ x: wrong, timesteps }), 'invalid-shape').message).toMatch(/mlp: x must have shape \[\?, 3\]/);
    tf.dispose([x, timesteps, wrong]);
    model.dispose();
    expect(catchDiffusionError(() => resolveMlpDenoiserConfig({ dataDimension: 2, hidden: 3 }), 'unknown-option').message).toMatch(/"hidden"/);
    expect(catchDiffusionError(() => resolveMlpDenoiserConfig({ hiddenSize: 3 }), 'invalid-argument').message).toMatch(/dataDimension is required/);
  });

  it('leaves no tensor behind and learns a fixed target with Adam', () => {
    const initial = tf.memory().numTensors;
    const model = createMlpDenoiser({ dataDimension: 2, hiddenSize: 32, hiddenLayers: 2, seed: 4 });
    const x = randomTensor([16, 2], 'mlp-train-x');
    const target = randomTensor([16, 2], 'mlp-train-y');
    const timesteps = tf.tensor1d(Array.from({ length: 16 }, (_, index) => index * 60));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.predict({ x, timesteps });
    });
    expect(tf.memory().numTensors).toBe(before);
    const optimizer = tf.train.adam(1e-2);
    const losses: number[] = [];
    for (let step = 0; step < 30; step += 1) {
      const loss = optimizer.minimize(() => tf.mean(tf.squaredDifference(model.predict({ x, timesteps }).prediction, target)), true, [
        ...model.parameters.values(),
      ]);
      losses.push(loss?.dataSync()[0] as number);
      loss?.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * (losses[0] as number));
    optimizer.dispose();
    tf.dispose([x, target, timesteps]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(initial);
  });
});
