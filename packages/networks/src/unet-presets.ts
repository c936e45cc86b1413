import type { UNetConfig } from './unet-config.js';

/**
 * Ready-made ADM U-Net configs (Dhariwal & Nichol 2021 layout). Spread one and override what
 * you need: `createUNet({ ...unetPresets['mnist-small'], seed: 1 })`.
 * - 'torch-peer': exactly the PyTorch reference net of shared/peers/torch_unet.py: 32x32x1,
 *   32 channels, multipliers 1,2,2, one residual block per level down and two up, GroupNorm(8),
 *   AdaGN, single-head self-attention only in the middle block (at 8x8), stride-2 conv down,
 *   nearest + conv up, 10 classes plus a null class (11 embedding rows): 1,142,337 parameters.
 * - 'mnist-small': the same network on native 28x28x1 MNIST (28 -> 14 -> 7; same parameter count).
 */
const torchPeer = {
  type: 'unet',
  imageSize: 32,
  inChannels: 1,
  modelChannels: 32,
  channelMultipliers: [1, 2, 2],
  numResBlocks: 1,
  numResBlocksUp: 2,
  attentionResolutions: [],
  numHeads: 1,
  numHeadChannels: null,
  dropout: 0,
  useScaleShiftNorm: true,
  resblockUpdown: false,
  convResample: true,
  resblockRescale: false,
  groupNormGroups: 8,
  numClasses: 10,
  prediction: 'epsilon',
  variance: 'fixed-large',
  seed: 0,
} as const satisfies UNetConfig;

export const unetPresets = {
  'torch-peer': torchPeer,
  'mnist-small': { ...torchPeer, imageSize: 28 },
} as const satisfies Readonly<Record<string, UNetConfig>>;

export type UNetPresetName = keyof typeof unetPresets;
