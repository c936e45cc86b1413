import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';
import { createUNet } from './unet.js';
import { resolveUNetConfig } from './unet-config.js';

beforeAll(useCpuBackend);

const valid = { imageSize: 8, inChannels: 1, modelChannels: 8, channelMultipliers: [1, 2], numResBlocks: 1, groupNormGroups: 4 };

describe('resolveUNetConfig', () => {
  it('fills in every default and keeps the result JSON-safe', () => {
    const resolved = resolveUNetConfig(valid);
    expect(resolved).toEqual({
      type: 'unet',
      imageSize: 8,
      inChannels: 1,
      modelChannels: 8,
      channelMultipliers: [1, 2],
      numResBlocks: 1,
      attentionResolutions: [],
      numHeads: 1,
      numHeadChannels: null,
      attentionOrder: 'heads-first',
      timestepScale: 1,
      dropout: 0,
      useScaleShiftNorm: true,
      resblockUpdown: false,
      convResample: true,
      resblockRescale: false,
      groupNormGroups: 4,
      seed: 0,
      outChannels: 1,
      numResBlocksUp: 2,
      numClasses: null,
      numHeadsUpsample: null,
      lowResolutionSize: null,
      prediction: 'epsilon',
      variance: 'fixed-large',
    });
    expect(JSON.parse(JSON.stringify(resolved))).toEqual(resolved);
    expect(resolveUNetConfig(resolved)).toEqual(resolved);
  });

  it('names unknown options', () => {
    const error = catchDiffusionError(() => resolveUNetConfig({ ...valid, channelMult: [1, 2] }), 'unknown-option');
    expect(error.message).toMatch(/unknown option "channelMult"/);
  });

  it('rejects bad values with the option in the message', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...valid, imageSize: 10, channelMultipliers: [1, 2, 2] }, /imageSize 10 must be divisible by 4/],
      [{ ...valid, attentionResolutions: [16] }, /attentionResolutions holds 16, which is not a resolution of this U-Net \(8, 4 pixels\)/],
      [{ ...valid, numResBlocksUp: 1 }, /numResBlocksUp 1 must be numResBlocks \+ 1 = 2/],
      [{ ...valid, outChannels: 2 }, /outChannels 2 must equal inChannels 1/],
      [{ ...valid, prediction: 'noise' }, /prediction must be one of 'epsilon', 'x0', 'v'/],
      [{ ...valid, variance: 'learned' }, /variance must be one of/],
      [{ ...valid, dropout: 1 }, /dropout must be a number in \[0, 1\)/],
      [{ ...valid, modelChannels: 0 }, /modelChannels must be an integer >= 1/],
      [{ ...valid, channelMultipliers: [] }, /channelMultipliers must have at least one level/],
      [{ ...valid, channelMultipliers: [1, -1] }, /channelMultipliers must be a list of numbers > 0/],
      [{ ...valid, channelMultipliers: [0.1, 1] }, /channelMultipliers\[0\] = 0.1 gives no channels at modelChannels 8/],
      [{ ...valid, timestepScale: 0 }, /timestepScale must be a finite number > 0/],
      [{ ...valid, attentionOrder: 'new' }, /attentionOrder must be one of 'heads-first', 'qkv-first'/],
      [{ ...valid, type: 'mlp' }, /type must be 'unet'/],
      [{ ...valid, useScaleShiftNorm: 'yes' }, /useScaleShiftNorm must be true or false/],
      [{ inChannels: 1, modelChannels: 8, channelMultipliers: [1] }, /imageSize is required/],
    ];
    for (const [config, message] of cases) {
      expect(catchDiffusionError(() => resolveUNetConfig(config), 'invalid-argument').message).toMatch(message);
    }
    expect(catchDiffusionError(() => resolveUNetConfig(null), 'invalid-argument').message).toMatch(/must be an object/);
  });

  it('names the layer whose channels the GroupNorm groups do not divide, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const error = catchDiffusionError(() => createUNet({ ...valid, modelChannels: 6 }), 'invalid-argument');
    expect(error.message).toMatch(/groupNormGroups 4 must divide the 6 channels of input_blocks.1.0.in_layers.0/);
    const heads = catchDiffusionError(() => createUNet({ ...valid, numHeadChannels: 3 }), 'invalid-argument');
    expect(heads.message).toMatch(/numHeadChannels 3 must divide the 16 channels of the attention at middle_block.1/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
