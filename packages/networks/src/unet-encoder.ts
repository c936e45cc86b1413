import * as tf from '@tensorflow/tfjs-core';
import { createAttentionBlock, attentionHeads } from './attention.js';
import type { ForwardContext } from './forward-context.js';
import { applyConv2d, applyDense, silu } from './layer-ops.js';
import type { ParameterStore } from './parameter-store.js';
import { createDownsample } from './resample.js';
import { createResidualBlock, type ResidualBlock } from './residual-block.js';
import { timestepEmbedding } from './timestep-embedding.js';
import { type ResolvedUNetBackboneConfig, levelChannels } from './unet-config.js';

/** One entry of ADM's TimestepEmbedSequential: a layer that may use the embedding (given as SiLU(emb)). */
export interface TimestepLayer {
  apply(h: tf.Tensor4D, activatedEmbedding: tf.Tensor2D, context: ForwardContext): tf.Tensor4D;
}

/** Runs layers in order (ADM's TimestepEmbedSequential). */
export function sequence(layers: readonly TimestepLayer[]): TimestepLayer {
  return {
    apply(h, activatedEmbedding, context) {
      let output = h;
      for (const layer of layers) output = layer.apply(output, activatedEmbedding, context);
      return output;
    },
  };
}

/** A layer that ignores the embedding. */
export function plainLayer(layer: { apply(x: tf.Tensor4D): tf.Tensor4D }): TimestepLayer {
  return { apply: (h) => layer.apply(h) };
}

/**
 * ADM's time embedding: sinusoidal(modelChannels) -> linear(4 mc) -> SiLU -> linear(4 mc), as
 * `time_embed.0` and `time_embed.2`. Returns [batch] -> [batch, 4 mc].
 */
export function createTimeEmbedding(store: ParameterStore, modelChannels: number, timestepScale = 1): (timesteps: tf.Tensor1D) => tf.Tensor2D {
  const embeddingChannels = 4 * modelChannels;
  const first = store.dense('time_embed.0', modelChannels, embeddingChannels);
  const second = store.dense('time_embed.2', embeddingChannels, embeddingChannels);
  return (timesteps) => applyDense(silu(applyDense(timestepEmbedding(timesteps, modelChannels, 10000, timestepScale), first)), second);
}

/** Builds the shared residual-block options of a backbone. */
export function residualBlockFactory(
  config: ResolvedUNetBackboneConfig,
): (store: ParameterStore, inChannels: number, outChannels: number, resample?: 'none' | 'up' | 'down') => ResidualBlock {
  return (store, inChannels, outChannels, resample = 'none') =>
    createResidualBlock(store, {
      inChannels,
      outChannels,
      embeddingChannels: 4 * config.modelChannels,
      groups: config.groupNormGroups,
      dropout: config.dropout,
      useScaleShiftNorm: config.useScaleShiftNorm,
      resample,
      rescale: config.resblockRescale,
    });
}

/** Builds an attention block at `where` with the backbone's head settings (`numHeads` overrides config.numHeads). */
export function attentionFactory(
  config: ResolvedUNetBackboneConfig,
  numHeads: number = config.numHeads,
): (store: ParameterStore, channels: number) => TimestepLayer {
  return (store, channels) =>
    plainLayer(
      createAttentionBlock(store, {
        channels,
        heads: attentionHeads(channels, numHeads, config.numHeadChannels, store.prefix),
        groups: config.groupNormGroups,
        order: config.attentionOrder,
      }),
    );
}

export interface UNetEncoder {
  /** input_blocks: the stem conv, residual blocks (+ attention) and downsamplers, in order. */
  readonly inputBlocks: readonly TimestepLayer[];
  readonly middleBlock: TimestepLayer;
  /** The channels of each input block's output (ADM's input_block_chans), for the skip connections. */
  readonly skipChannels: readonly number[];
  /** Channels at the bottom (after the middle block). */
  readonly channels: number;
  /** Resolution (pixels) at the bottom. */
  readonly bottomResolution: number;
}

/**
 * The encoder half of ADM's UNetModel / EncoderUNetModel (Dhariwal & Nichol 2021): `input_blocks`
 * (stem conv, numResBlocks residual blocks per level with attention at attentionResolutions,
 * a downsampler between levels) and `middle_block` (ResBlock, AttentionBlock, ResBlock).
 */
export function createUNetEncoder(store: ParameterStore, config: ResolvedUNetBackboneConfig, inChannels = config.inChannels): UNetEncoder {
  const residualBlock = residualBlockFactory(config);
  const attention = attentionFactory(config);
  const inputBlocks: TimestepLayer[] = [];
  const skipChannels: number[] = [];
  let channels = levelChannels(config, 0);
  const stem = store.conv2d('input_blocks.0.0', inChannels, channels, 3);
  inputBlocks.push(plainLayer({ apply: (x) => applyConv2d(x, stem) }));
  skipChannels.push(channels);
  let resolution = config.imageSize;
  config.channelMultipliers.forEach((_, level) => {
    for (let block = 0; block < config.numResBlocks; block += 1) {
      const blockStore = store.scope(`input_blocks.${inputBlocks.length}`);
      const outChannels = levelChannels(config, level);
      const layers: TimestepLayer[] = [residualBlock(blockStore.scope(0), channels, outChannels)];
      channels = outChannels;
      if (config.attentionResolutions.includes(resolution)) layers.push(attention(blockStore.scope(1), channels));
      inputBlocks.push(sequence(layers));
      skipChannels.push(channels);
    }
    if (level !== config.channelMultipliers.length - 1) {
      const blockStore = store.scope(`input_blocks.${inputBlocks.length}`).scope(0);
      inputBlocks.push(
        config.resblockUpdown
          ? residualBlock(blockStore, channels, channels, 'down')
          : plainLayer(createDownsample(blockStore, channels, config.convResample)),
      );
      skipChannels.push(channels);
      resolution /= 2;
    }
  });
  const middleStore = store.scope('middle_block');
  const middleBlock = sequence([
    residualBlock(middleStore.scope(0), channels, channels),
    attention(middleStore.scope(1), channels),
    residualBlock(middleStore.scope(2), channels, channels),
  ]);
  return { inputBlocks, middleBlock, skipChannels, channels, bottomResolution: resolution };
}
