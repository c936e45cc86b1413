import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { type ModelOutput, type PredictionKind, type TrainableDiffusionModel, type VarianceKind } from '@tfjs-diffusion/core';
import {
  asRawConfig,
  checkType,
  readBoolean,
  readChoice,
  readInteger,
  readOptionalInteger,
  readSeed,
  rejectUnknownKeys,
} from './config-validation.js';
import { applyDense, silu } from './layer-ops.js';
import { checkClassLabels, checkModelInput } from './model-input-validation.js';
import { type ParameterSource, type ShapeProbe, buildWithStore } from './parameter-store.js';
import { timestepEmbedding } from './timestep-embedding.js';
import { PREDICTION_KINDS, VARIANCE_KINDS } from './unet-config.js';

/** The MLP denoiser's JSON config, for low-dimensional data [batch, dataDimension] (e.g. 2-D toy sets). */
export type MlpDenoiserConfig = {
  readonly type?: 'mlp';
  readonly dataDimension: number;
  /** Width of every hidden layer (default 128). */
  readonly hiddenSize?: number;
  /** Residual blocks (default 3). */
  readonly hiddenLayers?: number;
  /** Width of the sinusoidal timestep embedding (default 32). */
  readonly timeEmbeddingDimension?: number;
  /** Class conditioning with numClasses labels plus the null label numClasses (default null). */
  readonly numClasses?: number | null;
  /** Start the output layer at zero, so the initial prediction is 0 (default false). */
  readonly zeroInitOutput?: boolean;
  readonly prediction?: PredictionKind;
  readonly variance?: VarianceKind;
  readonly seed?: number | string;
};

export type ResolvedMlpDenoiserConfig = {
  readonly type: 'mlp';
  readonly dataDimension: number;
  readonly hiddenSize: number;
  readonly hiddenLayers: number;
  readonly timeEmbeddingDimension: number;
  readonly numClasses: number | null;
  readonly zeroInitOutput: boolean;
  readonly prediction: PredictionKind;
  readonly variance: VarianceKind;
  readonly seed: number | string;
};

export interface MlpDenoiser extends TrainableDiffusionModel {
  readonly config: ResolvedMlpDenoiserConfig;
}

const MLP_KEYS = [
  'type',
  'dataDimension',
  'hiddenSize',
  'hiddenLayers',
  'timeEmbeddingDimension',
  'numClasses',
  'zeroInitOutput',
  'prediction',
  'variance',
  'seed',
];

/** Validates an MLP denoiser config (DiffusionError naming the option) and fills in its defaults. */
export function resolveMlpDenoiserConfig(rawConfig: unknown): ResolvedMlpDenoiserConfig {
  const what = 'mlp config';
  const config = asRawConfig(rawConfig, what);
  rejectUnknownKeys(config, MLP_KEYS, what);
  checkType(config, 'mlp', what);
  return {
    type: 'mlp',
    dataDimension: readInteger(config, 'dataDimension', what, 1),
    hiddenSize: readInteger(config, 'hiddenSize', what, 1, 128),
    hiddenLayers: readInteger(config, 'hiddenLayers', what, 0, 3),
    timeEmbeddingDimension: readInteger(config, 'timeEmbeddingDimension', what, 2, 32),
    numClasses: readOptionalInteger(config, 'numClasses', what, 1),
    zeroInitOutput: readBoolean(config, 'zeroInitOutput', what, false),
    prediction: readChoice(config, 'prediction', what, PREDICTION_KINDS, 'epsilon'),
    variance: readChoice(config, 'variance', what, VARIANCE_KINDS, 'fixed-large'),
    seed: readSeed(config, what),
  };
}

/**
 * A residual MLP denoiser for low-dimensional data (the toy-data network of DDPM-style
 * experiments, e.g. Sohl-Dickstein et al. 2015's swiss roll), conditioned like ADM:
 * emb = linear(SiLU(linear(sinusoidal(t)))) [+ label_emb(y)]; h = input_projection(x);
 * each block h += linear_2(SiLU(linear_1(SiLU(h)) + emb_proj(SiLU(emb)))); out = output(SiLU(h)).
 * 'learned-range' doubles the output: the prediction, then the raw variance values.
 */
export function createMlpDenoiser(
  config: MlpDenoiserConfig | Readonly<Record<string, unknown>>,
  options: { readonly parameterSource?: ParameterSource; readonly shapeProbe?: ShapeProbe } = {},
): MlpDenoiser {
  const resolved = resolveMlpDenoiserConfig(config);
  const { hiddenSize, dataDimension } = resolved;
  const learnedVariance = resolved.variance === 'learned-range';
  const { built, store } = buildWithStore(resolved.seed, options.shapeProbe ?? options.parameterSource, (parameterStore) => {
    const timeFirst = parameterStore.dense('time_embed.0', resolved.timeEmbeddingDimension, hiddenSize);
    const timeSecond = parameterStore.dense('time_embed.2', hiddenSize, hiddenSize);
    const labelEmbedding = resolved.numClasses === null ? null : parameterStore.embedding('label_emb', resolved.numClasses + 1, hiddenSize);
    const inputProjection = parameterStore.dense('input_projection', dataDimension, hiddenSize);
    const blocks = Array.from({ length: resolved.hiddenLayers }, (_, index) => {
      const blockStore = parameterStore.scope(`blocks.${index}`);
      return {
        first: blockStore.dense('linear_1', hiddenSize, hiddenSize),
        embedding: blockStore.dense('emb_proj', hiddenSize, hiddenSize),
        second: blockStore.dense('linear_2', hiddenSize, hiddenSize),
      };
    });
    const output = parameterStore.dense('output', hiddenSize, learnedVariance ? 2 * dataDimension : dataDimension, resolved.zeroInitOutput);
    return { timeFirst, timeSecond, labelEmbedding, inputProjection, blocks, output };
  });

  return {
    prediction: resolved.prediction,
    variance: resolved.variance,
    conditioning: resolved.numClasses === null ? null : { kind: 'class', numClasses: resolved.numClasses, nullClass: resolved.numClasses },
    parameters: store.parameters,
    config: resolved,
    predict(input): ModelOutput {
      const batch = checkModelInput(input.x, input.timesteps, [dataDimension], 'mlp');
      return tf.tidy(() => {
        const labels = checkClassLabels(input.condition, resolved.numClasses, batch, 'mlp');
        // 1. emb = linear(SiLU(linear(sinusoidal(t)))) [+ label_emb(y)]
        const sinusoidal = timestepEmbedding(input.timesteps, resolved.timeEmbeddingDimension);
        let embedding = applyDense(silu(applyDense(sinusoidal, built.timeFirst)), built.timeSecond);
        if (built.labelEmbedding && labels) embedding = tf.add(embedding, tf.gather(built.labelEmbedding, labels));
        const embeddingActivated = silu(embedding);
        // 2. residual blocks on the projected input
        let h: tf.Tensor2D = applyDense(tf.cast(input.x, 'float32') as tf.Tensor2D, built.inputProjection);
        for (const block of built.blocks) {
          const inner: tf.Tensor2D = tf.add(applyDense(silu(h), block.first), applyDense(embeddingActivated, block.embedding));
          h = tf.add(h, applyDense(silu(inner), block.second));
        }
        // 3. output layer; learned range: first half the prediction, second half v (raw)
        const output = applyDense(silu(h), built.output);
        if (!learnedVariance) return { prediction: output };
        const [prediction, varianceValues] = tf.split(output, 2, 1);
        return { prediction: prediction as tf.Tensor, varianceValues: varianceValues as tf.Tensor };
      });
    },
    dispose() {
      store.dispose();
    },
  };
}
