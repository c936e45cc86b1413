import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { DiffusionModel } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { nullClassModel } from './null-class-model.js';

describe('nullClassModel', () => {
  it('feeds the null class whatever the labels, and leaves no tensor behind', async () => {
    await tf.setBackend('cpu');
    const seen: number[][] = [];
    const model: DiffusionModel = {
      prediction: 'epsilon',
      variance: 'fixed-small',
      conditioning: { kind: 'class', numClasses: 4, nullClass: 4 },
      predict: (input) => {
        seen.push(Array.from(input.condition?.classLabels?.dataSync() ?? []));
        return { prediction: tf.add(input.x, 1) };
      },
    };
    const wrapped = nullClassModel(model);
    expect(wrapped.conditioning).toEqual(model.conditioning);
    const x = tf.zeros([3, 2]);
    const timesteps = tf.tensor1d([5, 5, 5]);
    const labels = tf.tensor1d([0, 1, 2], 'int32');
    const before = tf.memory().numTensors;
    const output = wrapped.predict({ x, timesteps, condition: { classLabels: labels } });
    expect(seen).toEqual([[4, 4, 4]]);
    expect(Array.from(await output.prediction.data())).toEqual([1, 1, 1, 1, 1, 1]);
    output.prediction.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, timesteps, labels]);
  });

  it('refuses a model without a null class', () => {
    const model: DiffusionModel = {
      prediction: 'epsilon',
      variance: 'fixed-small',
      conditioning: null,
      predict: () => ({ prediction: tf.scalar(0) }),
    };
    expect(() => nullClassModel(model)).toThrow('nullClassModel needs a class-conditional model with a nullClass');
  });
});
