import * as tf from '@tensorflow/tfjs-core';
import { qkvAttention } from './attention.js';
import { applyPointwise } from './layer-ops.js';
import type { ParameterStore } from './parameter-store.js';

export interface AttentionPool {
  apply(x: tf.Tensor4D): tf.Tensor2D;
}

/**
 * ADM's AttentionPool2d (adapted from CLIP, Radford et al. 2021): the mean token is prepended to
 * the HW tokens, a learned positional embedding is added, and multi-head attention ('qkv-first'
 * order) of the mean token over all tokens is projected to `outChannels`. [B, S, S, C] -> [B, out].
 * Parameters: positional_embedding [C, S^2 + 1] (PyTorch's shape, N(0, 1/C)), qkv_proj [1, C, 3C], c_proj [1, C, out].
 */
export function createAttentionPool(
  store: ParameterStore,
  options: { readonly spatialSize: number; readonly channels: number; readonly heads: number; readonly outChannels: number },
): AttentionPool {
  const { channels, heads } = options;
  const tokens = options.spatialSize * options.spatialSize + 1;
  const positional = store.create('positional_embedding', [channels, tokens], { kind: 'normal', std: 1 / Math.sqrt(channels) });
  const qkv = store.pointwise('qkv_proj', channels, 3 * channels);
  const projection = store.pointwise('c_proj', channels, options.outChannels);
  return {
    apply(x) {
      const [batch, height, width] = x.shape;
      // 1. tokens [B, HW, C] with their mean prepended
      const flat = tf.reshape(x, [batch, height * width, channels]);
      const withMean = tf.concat([tf.mean(flat, 1, true), flat], 1) as tf.Tensor3D;
      // 2. + positional embedding, then attention and the output projection
      const embedded = tf.add(withMean, tf.transpose(positional)) as tf.Tensor3D;
      const attended = qkvAttention(applyPointwise(embedded, qkv), heads, 'qkv-first');
      const projected = applyPointwise(attended, projection);
      // 3. the mean token's output
      return tf.reshape(tf.slice(projected, [0, 0, 0], [batch, 1, options.outChannels]), [batch, options.outChannels]);
    },
  };
}
