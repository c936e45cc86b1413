import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type NoisyClassifier } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFreeGuidance } from './classifier-free-guidance.js';
import { classifierGuidance } from './classifier-guidance.js';
import { guidanceByName, type GuidanceName } from './guidance-by-name.js';
import { createMixtureClassifier, createMixtureDenoiser, linearAlphaBars, type GaussianMixture } from './test-utils/gaussian-mixture.js';

const mixture: GaussianMixture = { means: [-1.5, 1.5], stds: [0.3, 0.3], weights: [0.8, 0.2] };
const alphaBars = linearAlphaBars(1000);
const input = () => ({
  x: tf.tensor2d([[-2], [0.1], [1.9]]),
  timesteps: tf.tensor1d([900, 500, 60]),
  condition: { classLabels: tf.tensor1d([1, 0, 1], 'int32') },
});

async function prediction(model: ReturnType<typeof createMixtureDenoiser>): Promise<number[]> {
  const output = tf.tidy(() => model.predict(input()).prediction);
  const values = Array.from(await output.data(), Number);
  output.dispose();
  return values;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('guidanceByName', () => {
  it("returns the model itself for 'none' and the same predictions as the named guidances", async () => {
    const model = createMixtureDenoiser({ mixture, alphaBars });
    expect(guidanceByName('none', { scale: 3 })(model)).toBe(model);
    expect(await prediction(guidanceByName('cfg', { scale: 2 })(model))).toEqual(await prediction(classifierFreeGuidance({ scale: 2 })(model)));
    const classifier: NoisyClassifier = createMixtureClassifier(mixture, alphaBars);
    const byName = tf.tidy(() => guidanceByName('classifier', { scale: 1.5, classifier })(model).predict(input()).guidanceGradient as tf.Tensor);
    const direct = tf.tidy(() => classifierGuidance({ classifier, scale: 1.5 })(model).predict(input()).guidanceGradient as tf.Tensor);
    expect(Array.from(await byName.data())).toEqual(Array.from(await direct.data()));
    tf.dispose([byName, direct]);
  });

  it('names what is missing or unknown', () => {
    expect(() => guidanceByName('classifier', { scale: 1 })).toThrow(DiffusionError);
    expect(() => guidanceByName('classifier', { scale: 1 })).toThrow("guidance 'classifier' needs a noise-aware classifier");
    expect(() => guidanceByName('plms' as GuidanceName, { scale: 1 })).toThrow("guidance 'plms' is not one of none, cfg, classifier");
  });
});
