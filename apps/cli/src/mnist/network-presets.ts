import { unetPresets, type UNetConfig } from '@tfjs-diffusion/networks';

/**
 * The CLI's own small preset, sized to train on two CPU cores: ADM U-Net (Dhariwal & Nichol 2021)
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

/** Every preset `--network` accepts: the networks package's U-Net presets plus the CLI's own. */
export const NETWORK_PRESETS: Readonly<Record<string, UNetConfig & { readonly type: 'unet' }>> = {
  'mnist-tiny': MNIST_TINY,
  'mnist-test': MNIST_TEST,
  ...unetPresets,
};

export const NETWORK_PRESET_NAMES = Object.keys(NETWORK_PRESETS);
