import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, DiffusionError, type NoisyClassifier } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifierObjective } from './classifier-objective.js';
import { linearAlphaBars, scheduleFromAlphaBars } from './test-utils/gaussian-mixture.js';

const alphaBars = linearAlphaBars(1000);

/** Two 2-D Gaussian blobs, N((-1, -1), 0.3^2 I) labelled 0 and N((1, 1), 0.3^2 I) labelled 1. */
function mixtureData(batch: number, seed: string): { x0: tf.Tensor2D; labels: tf.Tensor1D } {
  const source = createNoiseSource(seed);
  const classes = source.integers(batch, 2);
  const noise = source.normal([batch, 2]);
  const points = new Float32Array(batch * 2);
  for (let sample = 0; sample < batch; sample += 1) {
    const center = classes[sample] === 1 ? 1 : -1;
    points[2 * sample] = center + 0.3 * (noise[2 * sample] as number);
    points[2 * sample + 1] = center + 0.3 * (noise[2 * sample + 1] as number);
  }
  return { x0: tf.tensor2d(points, [batch, 2]), labels: tf.tensor1d(classes, 'int32') };
}

/** A tiny noise-aware logistic classifier: logits = [x, (t/T) x] W + b. */
function logisticClassifier(): NoisyClassifier & { variables: tf.Variable[]; dispose(): void } {
  const weights = tf.variable(tf.zeros([4, 2]), true, 'weights');
  const bias = tf.variable(tf.zeros([2]), true, 'bias');
  return {
    numClasses: 2,
    variables: [weights, bias],
    logits({ x, timesteps }) {
      return tf.tidy(() => {
        const scaled = tf.mul(x, tf.reshape(tf.div(timesteps, 1000), [-1, 1]));
        return tf.add(tf.matMul(tf.concat([x, scaled], 1), weights), bias) as tf.Tensor2D;
      });
    },
    dispose() {
      weights.dispose();
      bias.dispose();
    },
  };
}

describe('createClassifierObjective', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('feeds x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps and the ORIGINAL timesteps, drawn from the seed', () => {
    const kept = [0, 250, 500, 750, 999];
    const schedule = scheduleFromAlphaBars(alphaBars, kept);
    const seen: { x?: number[]; timesteps?: number[]; training?: boolean } = {};
    const recorder: NoisyClassifier = {
      numClasses: 3,
      logits({ x, timesteps, training }) {
        seen.x = Array.from(x.dataSync());
        seen.timesteps = Array.from(timesteps.dataSync());
        seen.training = training;
        return tf.zeros([x.shape[0] as number, 3]) as tf.Tensor2D;
      },
    };
    const x0 = tf.tensor2d([
      [0.5, -0.5],
      [1, 0],
      [-1, 0.25],
      [0, 0],
    ]);
    const labels = tf.tensor1d([0, 2, 1, 1], 'int32');
    const result = createClassifierObjective().compute({ classifier: recorder, schedule, x0, labels, noise: createNoiseSource(11) });

    const replay = createNoiseSource(11);
    const indices = replay.integers(4, kept.length);
    const epsilon = replay.normal([4, 2]);
    expect(Array.from(result.indices)).toEqual(Array.from(indices));
    expect(seen.timesteps).toEqual(Array.from(indices, (index) => kept[index]));
    expect(seen.training).toBe(true);
    const x0Values = x0.dataSync();
    seen.x?.forEach((value, position) => {
      const aBar = alphaBars[kept[indices[Math.floor(position / 2)] as number] as number] as number;
      const expected = Math.sqrt(aBar) * (x0Values[position] as number) + Math.sqrt(1 - aBar) * (epsilon[position] as number);
      expect(value).toBeCloseTo(expected, 5);
    });
    // Zero logits over 3 classes: cross-entropy log 3 for every sample.
    expect(result.loss.dataSync()[0]).toBeCloseTo(Math.log(3), 5);
    expect(Array.from(result.perSampleLoss.dataSync()).every((value) => Math.abs(value - Math.log(3)) < 1e-5)).toBe(true);
    expect(result.accuracy).toBeUndefined();
    tf.dispose([x0, labels, result.loss, result.perSampleLoss]);
  });

  it('lowers the loss of a tiny logistic classifier over a few Adam steps, without leaking tensors', () => {
    const schedule = scheduleFromAlphaBars(alphaBars);
    const classifier = logisticClassifier();
    const objective = createClassifierObjective({ reportAccuracy: true });
    const train = mixtureData(256, 'train');
    const evaluate = mixtureData(512, 'evaluate');
    const evaluation = (): { loss: number; accuracy: number } => {
      const result = objective.compute({ classifier, schedule, ...evaluate, noise: createNoiseSource('fixed evaluation noise') });
      const loss = result.loss.dataSync()[0] as number;
      tf.dispose([result.loss, result.perSampleLoss]);
      return { loss, accuracy: result.accuracy as number };
    };
    const initial = evaluation();
    expect(initial.loss).toBeCloseTo(Math.log(2), 5);

    const optimizer = tf.train.adam(0.05);
    const noise = createNoiseSource('training noise');
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < 40; step += 1) {
      const loss = optimizer.minimize(() => objective.compute({ classifier, schedule, ...train, noise }).loss, true, classifier.variables);
      losses.push(loss?.dataSync()[0] as number);
      loss?.dispose();
    }
    // Adam made its moment variables (two per parameter) on the first step; later steps add nothing.
    expect(tf.memory().numTensors).toBe(before + 2 * classifier.variables.length);
    optimizer.minimize(() => objective.compute({ classifier, schedule, ...train, noise }).loss, false, classifier.variables);
    expect(tf.memory().numTensors).toBe(before + 2 * classifier.variables.length);

    const final = evaluation();
    expect(final.loss).toBeLessThan(initial.loss - 0.1);
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 5)));
    // Most timesteps leave the two blobs separable; the most noised ones are a coin toss.
    expect(final.accuracy).toBeGreaterThan(0.7);
    optimizer.dispose();
    classifier.dispose();
    tf.dispose([train.x0, train.labels, evaluate.x0, evaluate.labels]);
  });

  it('rejects labels of the wrong shape or type, and logits of the wrong shape', () => {
    const schedule = scheduleFromAlphaBars(alphaBars, [0, 500, 999]);
    const classifier = logisticClassifier();
    const objective = createClassifierObjective();
    const x0 = tf.zeros([3, 2]);
    const noise = createNoiseSource(1);
    expect(() => objective.compute({ classifier, schedule, x0, labels: tf.tensor1d([0, 1], 'int32'), noise })).toThrow(
      /labels must have shape \[3\]/,
    );
    expect(() => objective.compute({ classifier, schedule, x0, labels: tf.tensor1d([0, 1, 1]), noise })).toThrow(/int32/);
    const wrong: NoisyClassifier = { numClasses: 3, logits: ({ x }) => tf.zeros([x.shape[0] as number, 2]) as tf.Tensor2D };
    expect(() => objective.compute({ classifier: wrong, schedule, x0, labels: tf.tensor1d([0, 1, 1], 'int32'), noise })).toThrow(DiffusionError);
    classifier.dispose();
  });
});
