import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNoiseAwareClassifier, resolveNoiseAwareClassifierConfig } from './noise-aware-classifier.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';
import { compareInputGradient, gradientsAgree, randomTensor, randomizeParameters } from './test-utils/gradient-check.js';

beforeAll(useCpuBackend);

const tiny = {
  type: 'classifier',
  imageSize: 8,
  inChannels: 1,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  attentionResolutions: [4],
  numHeadChannels: 8,
  groupNormGroups: 4,
  numClasses: 3,
  seed: 2,
} as const;

describe('createNoiseAwareClassifier', () => {
  it('is the U-Net encoder half with an attention-pool head', () => {
    const classifier = createNoiseAwareClassifier(tiny);
    expect(classifier.numClasses).toBe(3);
    expect(classifier.config.pool).toBe('attention');
    const names = [...classifier.parameters.keys()];
    expect(names.some((name) => name.startsWith('output_blocks') || name.startsWith('label_emb'))).toBe(false);
    expect(classifier.parameters.get('middle_block.1.qkv.weight')?.shape).toEqual([1, 16, 48]);
    expect(classifier.parameters.get('out.2.positional_embedding')?.shape).toEqual([16, 17]);
    expect(classifier.parameters.get('out.2.c_proj.weight')?.shape).toEqual([1, 16, 3]);
    const x = randomTensor([2, 8, 8, 1], 'classifier-x');
    const timesteps = tf.tensor1d([3, 700]);
    const before = tf.memory().numTensors;
    const logits = tf.tidy(() => classifier.logits({ x, timesteps }));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(logits.shape).toEqual([2, 3]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([logits, x, timesteps]);
    classifier.dispose();
  });

  it('gives zero logits at initialisation with the adaptive head, and a usable grad_x log p(y | x_t)', () => {
    const classifier = createNoiseAwareClassifier({ ...tiny, pool: 'adaptive' });
    expect(classifier.parameters.get('out.3.weight')?.shape).toEqual([1, 1, 16, 3]);
    const x = randomTensor([2, 8, 8, 1], 'adaptive-x');
    const timesteps = tf.tensor1d([3, 700]);
    expect(tf.tidy(() => Array.from(classifier.logits({ x, timesteps }).dataSync())).every((value) => value === 0)).toBe(true);
    randomizeParameters(classifier.parameters, 'adaptive-params', 0.3);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const logProbability = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.logSoftmax(classifier.logits({ x: input, timesteps })), labels));
    expect(gradientsAgree(compareInputGradient(logProbability, x))).toBe(true);
    tf.dispose([x, timesteps, labels]);
    classifier.dispose();
  });

  it('validates its config and inputs', () => {
    expect(catchDiffusionError(() => resolveNoiseAwareClassifierConfig({ ...tiny, numClasses: undefined }), 'invalid-argument').message).toMatch(
      /numClasses is required/,
    );
    expect(catchDiffusionError(() => resolveNoiseAwareClassifierConfig({ ...tiny, prediction: 'epsilon' }), 'unknown-option').message).toMatch(
      /"prediction"/,
    );
    expect(catchDiffusionError(() => resolveNoiseAwareClassifierConfig({ ...tiny, pool: 'mean' }), 'invalid-argument').message).toMatch(
      /pool must be one of 'attention', 'adaptive', 'spatial', 'spatial_v2'/,
    );
    const classifier = createNoiseAwareClassifier({ ...tiny, pool: 'adaptive' });
    const x = tf.zeros([2, 4, 4, 1]);
    const timesteps = tf.tensor1d([1, 2]);
    catchDiffusionError(() => classifier.logits({ x, timesteps }), 'invalid-shape');
    tf.dispose([x, timesteps]);
    classifier.dispose();
  });
});
