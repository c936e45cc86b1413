import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { createNoiseSource, type TrainableNoisyClassifier } from '@tfjs-diffusion/core';
import { attentionHeads } from './attention.js';
import { createAttentionPool } from './attention-pool.js';
import { asRawConfig, checkType, readChoice, readInteger, rejectUnknownKeys } from './config-validation.js';
import { createForwardContext } from './forward-context.js';
import { applyGroupNorm } from './group-norm.js';
import { silu } from './layer-ops.js';
import { checkModelInput } from './model-input-validation.js';
import { buildWithStore } from './parameter-store.js';
import {
  type ResolvedUNetBackboneConfig,
  type UNetBackboneConfig,
  UNET_BACKBONE_KEYS,
  resolveUNetBackboneConfig,
} from './unet-config.js';
import { createTimeEmbedding, createUNetEncoder } from './unet-encoder.js';

export type ClassifierPool = 'attention' | 'adaptive';

/** The noise-aware classifier's JSON config: the U-Net backbone options plus the head. */
export type NoiseAwareClassifierConfig = UNetBackboneConfig & {
  readonly type?: 'classifier';
  readonly numClasses: number;
  /** 'attention' (AttentionPool2d, ADM's classifier default) or 'adaptive' (GN, SiLU, global average pool, linear). */
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
    pool: readChoice(config, 'pool', what, ['attention', 'adaptive'] as const, 'attention'),
  };
}

/**
 * The noise-aware classifier p_phi(y | x_t, t) of classifier guidance (Dhariwal & Nichol 2021,
 * section 4; ADM's EncoderUNetModel): the U-Net's encoder half with timestep conditioning and a
 * pooling head. `logits` maps [batch, S, S, C] and timesteps [batch] to [batch, numClasses].
 */
export function createNoiseAwareClassifier(
  config: NoiseAwareClassifierConfig | Readonly<Record<string, unknown>>,
): NoiseAwareClassifier {
  const resolved = resolveNoiseAwareClassifierConfig(config);
  const dropoutNoise = createNoiseSource(`${resolved.seed}:dropout`);
  const { built, store } = buildWithStore(resolved.seed, (parameterStore) => {
    const embedTime = createTimeEmbedding(parameterStore, resolved.modelChannels);
    const encoder = createUNetEncoder(parameterStore, resolved);
    const channels = encoder.channels;
    const outNorm = parameterStore.groupNorm('out.0', channels, resolved.groupNormGroups);
    let head: (h: tf.Tensor4D) => tf.Tensor2D;
    if (resolved.pool === 'adaptive') {
      // out.3: zero-initialised 1x1 conv after the global average pool, a linear layer
      const linear = parameterStore.conv2d('out.3', channels, resolved.numClasses, 1, true);
      head = (h) =>
        tf.add(tf.matMul(tf.mean(h, [1, 2]), tf.reshape(linear.weight, [channels, resolved.numClasses])), linear.bias);
    } else {
      const pool = createAttentionPool(parameterStore.scope('out.2'), {
        spatialSize: encoder.bottomResolution,
        channels,
        heads: attentionHeads(channels, resolved.numHeads, resolved.numHeadChannels, 'out.2'),
        outChannels: resolved.numClasses,
      });
      head = (h) => pool.apply(h);
    }
    return { embedTime, encoder, outNorm, head };
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
        const embedding = built.embedTime(input.timesteps);
        let h = tf.cast(input.x, 'float32') as tf.Tensor4D;
        for (const block of built.encoder.inputBlocks) h = block.apply(h, embedding, context);
        h = built.encoder.middleBlock.apply(h, embedding, context);
        return built.head(silu(applyGroupNorm(h, built.outNorm)));
      });
    },
    dispose() {
      store.dispose();
    },
  };
}
