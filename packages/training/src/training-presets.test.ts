import { parameterShapes, resolveNoiseAwareClassifierConfig, resolveUNetConfig, unetPresets } from '@tfjs-diffusion/networks';
import { describe, expect, it } from 'vitest';
import { MNIST_TEST, MNIST_TINY, NOISY_CLASSIFIER_CONFIG, TRAINING_NETWORK_PRESETS } from './training-presets.js';

describe('training presets', () => {
  it('mnist-tiny is mnist-small with attention at 7x7 and learned-range variance; mnist-test is its 8-channel, 2-level cut', () => {
    expect(MNIST_TINY).toEqual({ ...unetPresets['mnist-small'], attentionResolutions: [7], variance: 'learned-range' });
    const tiny = resolveUNetConfig(MNIST_TINY);
    expect([tiny.imageSize, tiny.inChannels, tiny.numClasses, tiny.dropout]).toEqual([28, 1, 10, 0]);
    const test = resolveUNetConfig(MNIST_TEST);
    expect([test.modelChannels, test.channelMultipliers, test.groupNormGroups]).toEqual([8, [1, 2], 4]);
    expect(Object.keys(TRAINING_NETWORK_PRESETS)).toEqual(['mnist-tiny', 'mnist-test', 'torch-peer', 'mnist-small']);
  });

  it('the default noisy classifier resolves: 10 classes, average pool, the 28x28x1 encoder of mnist-tiny', () => {
    const config = resolveNoiseAwareClassifierConfig(NOISY_CLASSIFIER_CONFIG);
    expect([config.numClasses, config.pool, config.imageSize, config.modelChannels]).toEqual([10, 'adaptive', 28, 32]);
    const shapes = [...parameterShapes(NOISY_CLASSIFIER_CONFIG).values()];
    expect(shapes.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0)).toBe(457_770);
  });
});
