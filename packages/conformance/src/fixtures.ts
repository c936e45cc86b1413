import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoiseSchedule } from '@tfjs-diffusion/core';
import { createMlpDenoiser, createUNet, type MlpDenoiser, type UNetModel } from '@tfjs-diffusion/networks';
import { createSchedule } from '@tfjs-diffusion/schedules';
import type { BatchSource } from '@tfjs-diffusion/training';

/**
 * A tiny ADM U-Net that still has every part: two levels, BigGAN up/down residual blocks, AdaGN,
 * attention at 4x4 with two heads, class labels and a learned-range variance.
 */
export function createParityUNet(): UNetModel {
  return createUNet({
    imageSize: 8,
    inChannels: 2,
    modelChannels: 8,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [4],
    numHeads: 2,
    groupNormGroups: 4,
    resblockUpdown: true,
    numClasses: 3,
    variance: 'learned-range',
    seed: 'conformance-parity',
  });
}

/** The smallest U-Net worth training: 4x4 images, two levels, attention in the middle block only. */
export function createTinyUNet(seed: number | string = 'conformance-tiny'): UNetModel {
  return createUNet({
    imageSize: 4,
    inChannels: 1,
    modelChannels: 4,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    groupNormGroups: 2,
    seed,
  });
}

export const TINY_UNET_SHAPE = [2, 4, 4, 1] as const;

/** A small MLP denoiser for 2-D data (epsilon prediction unless told otherwise). */
export function createTinyMlp(
  seed: number | string = 'conformance-mlp',
  options: { readonly variance?: 'fixed-small' | 'fixed-large'; readonly prediction?: 'epsilon' | 'x0' } = {},
): MlpDenoiser {
  return createMlpDenoiser({
    dataDimension: 2,
    hiddenSize: 16,
    hiddenLayers: 2,
    timeEmbeddingDimension: 8,
    variance: options.variance ?? 'fixed-large',
    prediction: options.prediction ?? 'epsilon',
    seed,
  });
}

export const MLP_SHAPE = [16, 2] as const;

/** The linear schedule on 100 steps (betas scaled as for T = 1000). */
export function trainingSchedule(): NoiseSchedule {
  return createSchedule({ kind: 'linear', timesteps: 100 });
}

/**
 * The same batch every step (a fixed, learnable target): for images a smooth +-0.8 pattern per
 * channel, for 2-D points two clusters at (+-0.6, -+0.4) plus small seeded noise.
 */
export function fixedBatches(shape: readonly number[]): BatchSource {
  const values = new Float32Array(shape.reduce((product, size) => product * size, 1));
  const noise = createNoiseSource(`batch:${shape.join('x')}`).normal([values.length]);
  if (shape.length === 2) {
    for (let index = 0; index < values.length; index += 1) {
      const row = Math.floor(index / 2);
      const sign = row % 2 === 0 ? 1 : -1;
      values[index] = sign * (index % 2 === 0 ? 0.6 : -0.4) + 0.05 * (noise[index] as number);
    }
  } else {
    const [, height, width, channels] = shape as [number, number, number, number];
    for (let index = 0; index < values.length; index += 1) {
      const channel = index % channels;
      const column = Math.floor(index / channels) % width;
      const row = Math.floor(index / (channels * width)) % height;
      values[index] = ((row + column + channel) % 2 === 0 ? 0.8 : -0.8) + 0.05 * (noise[index] as number);
    }
  }
  return { next: () => ({ x0: tf.tensor(values, [...shape]) }) };
}
