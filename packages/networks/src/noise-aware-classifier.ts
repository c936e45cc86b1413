import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { createNoiseSource, type TrainableNoisyClassifier } from '@tfjs-diffusion/core';
import { attentionHeads } from './attention.js';
import { createAttentionPool } from './attention-pool.js';
import { asRawConfig, checkType, readChoice, readInteger, rejectUnknownKeys } from './config-validation.js';
import { createForwardContext } from './forward-context.js';
import { applyGroupNorm, groupNorm } from './group-norm.js';
import { applyDense, silu } from './layer-ops.js';
import { checkModelInput } from './model-input-validation.js';
import { buildWithStore } from './parameter-store.js';
import type { NetworkBuildOptions } from './unet.js';
import { type ResolvedUNetBackboneConfig, type UNetBackboneConfig, UNET_BACKBONE_KEYS, resolveUNetBackboneConfig } from './unet-config.js';
import { createTimeEmbedding, createUNetEncoder } from './unet-encoder.js';

/** The classifier heads of ADM's EncoderUNetModel. */
export type ClassifierPool = 'attention' | 'adaptive' | 'spatial' | 'spatial_v2';

export const CLASSIFIER_POOLS: readonly ClassifierPool[] = ['attention', 'adaptive', 'spatial', 'spatial_v2'];

/** Hidden width of the 'spatial' heads' MLP (ADM's 2048). */
const SPATIAL_HIDDEN = 2048;

/** The noise-aware classifier's JSON config: the U-Net backbone options plus the head. */
export type NoiseAwareClassifierConfig = UNetBackboneConfig & {
  readonly type?: 'classifier';
  readonly numClasses: number;
  /**
   * 'attention' (AttentionPool2d, ADM's classifier default), 'adaptive' (GN, SiLU, global average
   * pool, linear), 'spatial' (the spatial means of every input block's and the middle block's
   * output, concatenated, then linear 2048, ReLU, linear) or 'spatial_v2' (the same MLP with
   * GroupNorm(groupNormGroups) and SiLU in place of ReLU).
   */
  readonly pool?: ClassifierPool;
};

export type ResolvedNoiseAwareClassifierConfig = ResolvedUNetBackboneConfig & {
  readonly type: 'classifier';
  readonly numClasses: number;
  readonly pool: ClassifierPool;
};

export interface NoiseAwareClassifier extends TrainableNoisyClassifier {
  readonly config: ResolvedNoiseAwareClassifierConfig;
}

/** Validates a classifier config (DiffusionError naming the option) and fills in its defaults. */
export function resolveNoiseAwareClassifierConfig(rawConfig: unknown): ResolvedNoiseAwareClassifierConfig {
  const what = 'classifier config';
  const config = asRawConfig(rawConfig, what);
  rejectUnknownKeys(config, ['type', ...UNET_BACKBONE_KEYS, 'numClasses', 'pool'], what);
  checkType(config, 'classifier', what);
  return {
    type: 'classifier',
    ...resolveUNetBackboneConfig(config, what),
    numClasses: readInteger(config, 'numClasses', what, 2),
    pool: readChoice(config, 'pool', what, CLASSIFIER_POOLS, 'attention'),
  };
}

/**
 * The noise-aware classifier p_phi(y | x_t, t) of classifier guidance (Dhariwal & Nichol 2021,
 * section 4; ADM's EncoderUNetModel): the U-Net's encoder half with timestep conditioning and a
 * pooling head. `logits` maps [batch, S, S, C] and timesteps [batch] to [batch, numClasses].
 */
export function createNoiseAwareClassifier(
  config: NoiseAwareClassifierConfig | Readonly<Record<string, unknown>>,
  options: NetworkBuildOptions = {},
): NoiseAwareClassifier {
  const resolved = resolveNoiseAwareClassifierConfig(config);
  const dropoutNoise = createNoiseSource(`${resolved.seed}:dropout`);
  const spatial = resolved.pool === 'spatial' || resolved.pool === 'spatial_v2';
  const { built, store } = buildWithStore(resolved.seed, options.shapeProbe ?? options.parameterSource, (parameterStore) => {
    const embedTime = createTimeEmbedding(parameterStore, resolved.modelChannels, resolved.timestepScale);
    const encoder = createUNetEncoder(parameterStore, resolved);
    const channels = encoder.channels;
    let head: ((h: tf.Tensor4D) => tf.Tensor2D) | null = null;
    let spatialHead: ((features: tf.Tensor2D) => tf.Tensor2D) | null = null;
    if (spatial) {
      // out.0 linear(features, 2048); spatial: out.1 ReLU, out.2 linear; spatial_v2: out.1 GroupNorm(32), out.2 SiLU, out.3 linear
      const features = encoder.skipChannels.reduce((sum, count) => sum + count, 0) + channels;
      const first = parameterStore.dense('out.0', features, SPATIAL_HIDDEN);
      const hiddenNorm = resolved.pool === 'spatial_v2' ? parameterStore.groupNorm('out.1', SPATIAL_HIDDEN, resolved.groupNormGroups) : null;
      const last = parameterStore.dense(hiddenNorm ? 'out.3' : 'out.2', SPATIAL_HIDDEN, resolved.numClasses);
      spatialHead = (pooled) => {
        const hidden = applyDense(pooled, first);
        const activated = hiddenNorm
          ? silu(
              tf.reshape(groupNorm(tf.reshape(hidden, [-1, 1, 1, SPATIAL_HIDDEN]), hiddenNorm.groups, hiddenNorm), [
                -1,
                SPATIAL_HIDDEN,
              ]) as tf.Tensor2D,
            )
          : tf.relu(hidden);
        return applyDense(activated, last);
      };
    } else if (resolved.pool === 'adaptive') {
      const outNorm = parameterStore.groupNorm('out.0', channels, resolved.groupNormGroups);
      // out.3: zero-initialised 1x1 conv after the global average pool, a linear layer
      const linear = parameterStore.conv2d('out.3', channels, resolved.numClasses, 1, true);
      head = (h) =>
        tf.add(
          tf.matMul(tf.mean(applyGroupNorm(h, outNorm, 'silu'), [1, 2]), tf.reshape(linear.weight, [channels, resolved.numClasses])),
          linear.bias,
        );
    } else {
      const outNorm = parameterStore.groupNorm('out.0', channels, resolved.groupNormGroups);
      const pool = createAttentionPool(parameterStore.scope('out.2'), {
        spatialSize: encoder.bottomResolution,
        channels,
        heads: attentionHeads(channels, resolved.numHeads, resolved.numHeadChannels, 'out.2'),
        outChannels: resolved.numClasses,
      });
      head = (h) => pool.apply(applyGroupNorm(h, outNorm, 'silu'));
    }
    return { embedTime, encoder, head, spatialHead };
  });

  const dataShape = [resolved.imageSize, resolved.imageSize, resolved.inChannels];
  return {
    numClasses: resolved.numClasses,
    parameters: store.parameters,
    config: resolved,
    logits(input) {
      checkModelInput(input.x, input.timesteps, dataShape, 'classifier');
      return tf.tidy(() => {
        const context = createForwardContext(input.training === true, dropoutNoise);
        // every residual block's emb_layers begin with SiLU: applied once here, not once per block
        const activatedEmbedding = silu(built.embedTime(input.timesteps));
        let h = tf.cast(input.x, 'float32') as tf.Tensor4D;
        // spatial heads: the mean over H, W of every block's output, [B, C_i] each
        const pooled: tf.Tensor2D[] = [];
        // each block in its own tidy, the previous activation freed as soon as it is consumed
        let first = true;
        for (const block of built.encoder.inputBlocks) {
          const input = h;
          h = tf.tidy(() => block.apply(input, activatedEmbedding, context));
          if (!first) input.dispose();
          first = false;
          if (built.spatialHead) pooled.push(tf.mean(h, [1, 2]));
        }
        const bottom = h;
        h = tf.tidy(() => built.encoder.middleBlock.apply(bottom, activatedEmbedding, context));
        bottom.dispose();
        if (built.spatialHead) return built.spatialHead(tf.concat([...pooled, tf.mean(h, [1, 2]) as tf.Tensor2D], 1));
        return (built.head as (features: tf.Tensor4D) => tf.Tensor2D)(h);
      });
    },
    dispose() {
      store.dispose();
    },
  };
}
