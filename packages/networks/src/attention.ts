import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import { applyGroupNorm } from './group-norm.js';
import { applyPointwise } from './layer-ops.js';
import type { ParameterStore } from './parameter-store.js';

/**
 * How the 3C channels of a qkv projection are laid out, as in ADM:
 * - 'heads-first' (QKVAttentionLegacy, ADM's default): [head][q | k | v][head channels];
 * - 'qkv-first' (QKVAttention, use_new_attention_order, and AttentionPool2d): [q | k | v][head][head channels].
 * With one head the two are the same: [q | k | v].
 */
export type QkvOrder = 'heads-first' | 'qkv-first';

/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017) over tokens:
 * softmax(q k^T / sqrt(d)) v per head, qkv [batch, length, 3C] -> [batch, length, C] with the
 * output channels ordered [head][head channels] (ADM's reshape(bs, -1, length)). Call inside tf.tidy.
 */
export function qkvAttention(qkv: tf.Tensor3D, heads: number, order: QkvOrder): tf.Tensor3D {
  const [batch, length, width] = qkv.shape;
  if (width % (3 * heads) !== 0) {
    throw new DiffusionError('invalid-shape', `qkvAttention: qkv width ${width} is not divisible by 3 x ${heads} heads`);
  }
  const headChannels = width / (3 * heads);
  // 1. split into q, k, v of [B, heads, L, d], as column slices of 2-D views (a rank-5 split is
  //    very slow on wasm): heads-first rows [B L heads, 3 d], qkv-first rows [B L, 3, heads d]
  const parts =
    order === 'heads-first'
      ? [0, 1, 2].map((part) => tf.slice(tf.reshape(qkv, [batch * length * heads, 3 * headChannels]), [0, part * headChannels], [-1, headChannels]))
      : [0, 1, 2].map((part) => tf.slice(tf.reshape(qkv, [batch * length, width]), [0, (part * width) / 3], [-1, width / 3]));
  const [query, key, value] = parts.map((part) => {
    const tokens = tf.reshape(part, [batch, length, heads, headChannels]);
    return heads === 1 ? tf.reshape(tokens, [batch, 1, length, headChannels]) : tf.transpose(tokens, [0, 2, 1, 3]);
  }) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  // 2. weights = softmax(q k^T / sqrt(d)) over the keys, with q and k each scaled by d^(-1/4) first
  //    as ADM's QKVAttention does ("more stable with f16 than dividing afterwards"; and an [L, d]
  //    scale rather than an [L, L] one)
  const scale = 1 / Math.sqrt(Math.sqrt(headChannels));
  const logits = tf.matMul(tf.mul(query, scale), tf.mul(key, scale), false, true);
  const weights = tf.softmax(logits, -1);
  // 3. a = weights v, back to [B, L, heads * d]
  const attended = tf.matMul(weights, value);
  const tokens = heads === 1 ? attended : tf.transpose(attended, [0, 2, 1, 3]);
  return tf.reshape(tokens, [batch, length, heads * headChannels]);
}

/** The number of heads ADM uses: channels / numHeadChannels when that is set, else numHeads. */
export function attentionHeads(channels: number, numHeads: number, numHeadChannels: number | null, where: string): number {
  if (numHeadChannels !== null) {
    if (channels % numHeadChannels !== 0) {
      throw new DiffusionError(
        'invalid-argument',
        `numHeadChannels ${numHeadChannels} must divide the ${channels} channels of the attention at ${where}`,
      );
    }
    return channels / numHeadChannels;
  }
  if (channels % numHeads !== 0) {
    throw new DiffusionError('invalid-argument', `numHeads ${numHeads} must divide the ${channels} channels of the attention at ${where}`);
  }
  return numHeads;
}

export interface AttentionBlock {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

/**
 * ADM's AttentionBlock (Dhariwal & Nichol 2021; after DDPM's self-attention): x + proj_out(attention(qkv(GroupNorm(x)))),
 * with a zero-initialised proj_out so the block starts as the identity. Parameters `norm`, `qkv`
 * ([1, C, 3C], `order` 'heads-first' by default, 'qkv-first' for use_new_attention_order) and `proj_out` under `store`.
 */
export function createAttentionBlock(
  store: ParameterStore,
  options: { readonly channels: number; readonly heads: number; readonly groups: number; readonly order?: QkvOrder },
): AttentionBlock {
  const { channels, heads } = options;
  const norm = store.groupNorm('norm', channels, options.groups);
  const qkv = store.pointwise('qkv', channels, 3 * channels);
  const projection = store.pointwise('proj_out', channels, channels, true);
  return {
    apply(x) {
      const [batch, height, width] = x.shape;
      const tokens = tf.reshape(applyGroupNorm(x, norm), [batch, height * width, channels]) as tf.Tensor3D;
      const attended = qkvAttention(applyPointwise(tokens, qkv), heads, options.order ?? 'heads-first');
      const projected = tf.reshape(applyPointwise(attended, projection), [batch, height, width, channels]);
      return tf.add(x, projected);
    },
  };
}
