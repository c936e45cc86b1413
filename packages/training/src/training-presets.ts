import { unetPresets, type NoiseAwareClassifierConfig, type UNetConfig } from '@tfjs-diffusion/networks';

/**
 * The small training preset, sized to train on two CPU cores: ADM U-Net (Dhariwal & Nichol 2021)
 * on 28x28x1 digits, 32 channels at 28x28, 64 at 14x14 and 7x7, one residual block per level,
 * self-attention at 7x7, 10 classes plus the null class 10 (classifier-free guidance), learned-range
 * variance (Improved DDPM). Dropout is 0: the U-Net's dropout noise is not part of the trainer
 * state, so a run with dropout could not resume exactly.
 */
export const MNIST_TINY: UNetConfig & { readonly type: 'unet' } = {
  ...unetPresets['mnist-small'],
  attentionResolutions: [7],
  variance: 'learned-range',
};

/** A very small net for tests and smoke runs (8 channels, 2 levels). */
export const MNIST_TEST: UNetConfig & { readonly type: 'unet' } = {
  ...MNIST_TINY,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  attentionResolutions: [14],
  groupNormGroups: 4,
};

/** Every U-Net preset a training run can name: the networks package's presets plus 'mnist-tiny' and 'mnist-test'. */
export const TRAINING_NETWORK_PRESETS: Readonly<Record<string, UNetConfig & { readonly type: 'unet' }>> = {
  'mnist-tiny': MNIST_TINY,
  'mnist-test': MNIST_TEST,
  ...unetPresets,
};

/** The noise-aware classifier of classifier guidance trained by default: the U-Net encoder of mnist-tiny with an average-pool head. */
export const NOISY_CLASSIFIER_CONFIG: NoiseAwareClassifierConfig & { readonly type: 'classifier' } = {
  type: 'classifier',
  imageSize: 28,
  inChannels: 1,
  modelChannels: 32,
  channelMultipliers: [1, 2, 2],
  numResBlocks: 1,
  attentionResolutions: [],
  dropout: 0,
  groupNormGroups: 8,
  numClasses: 10,
  pool: 'adaptive',
  seed: 0,
};
