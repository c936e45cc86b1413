import * as tf from '@tensorflow/tfjs-core';
import { adaptiveGroupNorm } from './adaptive-group-norm.js';
import type { ForwardContext } from './forward-context.js';
import { applyGroupNorm } from './group-norm.js';
import { applyConv2d, applyConv2dResidual, applyDense } from './layer-ops.js';
import type { ParameterStore } from './parameter-store.js';
import { downsampleAverage, upsampleNearest } from './resample.js';

export interface ResidualBlockOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly embeddingChannels: number;
  readonly groups: number;
  readonly dropout: number;
  /** AdaGN: GroupNorm(h) * (1 + scale) + shift instead of h + emb. */
  readonly useScaleShiftNorm: boolean;
  /** BigGAN-style up/down-sampling inside the block (ADM resblock_updown). */
  readonly resample: 'none' | 'up' | 'down';
  /** Divide the residual sum by sqrt(2) (NCSN++ skip_rescale, Song et al. 2021). */
  readonly rescale: boolean;
}

export interface ResidualBlock {
  readonly outChannels: number;
  /** `activatedEmbedding`: SiLU(emb), computed once per forward pass for every block (ADM's emb_layers start with it). */
  apply(x: tf.Tensor4D, activatedEmbedding: tf.Tensor2D, context: ForwardContext): tf.Tensor4D;
}

/**
 * ADM's ResBlock (Dhariwal & Nichol 2021; BigGAN up/down blocks, Brock et al. 2019):
 * h = conv(SiLU(GN(x))); h = AdaGN(h, emb) or GN(h + W emb); h = conv0(dropout(SiLU(h)));
 * out = skip(x) + h, the last conv zero-initialised so the block starts as its skip path.
 * Parameters under `store`: in_layers.0 (GN), in_layers.2 (conv), emb_layers.1 (linear),
 * out_layers.0 (GN), out_layers.3 (conv), skip_connection (1x1 conv, when channels change).
 */
export function createResidualBlock(store: ParameterStore, options: ResidualBlockOptions): ResidualBlock {
  const { inChannels, outChannels, groups } = options;
  const inNorm = store.groupNorm('in_layers.0', inChannels, groups);
  const inConv = store.conv2d('in_layers.2', inChannels, outChannels, 3);
  const embeddingLayer = store.dense('emb_layers.1', options.embeddingChannels, options.useScaleShiftNorm ? 2 * outChannels : outChannels);
  const outNorm = store.groupNorm('out_layers.0', outChannels, groups);
  const outConv = store.conv2d('out_layers.3', outChannels, outChannels, 3, true);
  const skip = inChannels === outChannels ? null : store.conv2d('skip_connection', inChannels, outChannels, 1);
  const resample = (x: tf.Tensor4D): tf.Tensor4D =>
    options.resample === 'up' ? upsampleNearest(x) : options.resample === 'down' ? downsampleAverage(x) : x;

  return {
    outChannels,
    apply(x, activatedEmbedding, context) {
      // 1. in_layers: GN, SiLU, (resample both paths), conv
      let h = resample(applyGroupNorm(x, inNorm, 'silu'));
      const input = resample(x);
      h = applyConv2d(h, inConv);
      // 2. the embedding: a linear layer on SiLU(emb) (given activated), [B, C or 2C]
      const embeddingOut = applyDense(activatedEmbedding, embeddingLayer);
      // 3. AdaGN, or add the embedding then GN; then out_layers' SiLU (fused with the norm)
      if (options.useScaleShiftNorm) {
        h = adaptiveGroupNorm(h, outNorm, embeddingOut, 'silu');
      } else {
        h = applyGroupNorm(tf.add(h, tf.reshape(embeddingOut, [-1, 1, 1, outChannels])), outNorm, 'silu');
      }
      // 4. out_layers: dropout, zero-initialised conv; 5. the residual sum (one kernel where the
      //    backend has it), optionally / sqrt(2)
      const sum = applyConv2dResidual(context.dropout(h, options.dropout), outConv, skip ? applyConv2d(input, skip) : input);
      return options.rescale ? tf.mul(sum, Math.SQRT1_2) : sum;
    },
  };
}
