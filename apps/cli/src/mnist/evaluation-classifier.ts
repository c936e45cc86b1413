import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError } from '@tfjs-diffusion/core';
import { ParameterStore, silu, type Conv2dParameters, type DenseParameters } from '@tfjs-diffusion/networks';

/** The evaluation classifier's JSON config (stored in its file). */
export interface EvaluationClassifierConfig {
  readonly type: 'evaluation-classifier';
  readonly imageSize: number;
  readonly inChannels: number;
  readonly numClasses: number;
  /** Channels of the three convolutions. */
  readonly channels: readonly [number, number, number];
  /** Width of the penultimate (feature) layer. */
  readonly featureDimension: number;
  readonly seed: number | string;
}

export const DEFAULT_EVALUATION_CLASSIFIER_CONFIG: EvaluationClassifierConfig = {
  type: 'evaluation-classifier',
  imageSize: 28,
  inChannels: 1,
  numClasses: 10,
  channels: [16, 32, 64],
  featureDimension: 128,
  seed: 0,
};

export interface EvaluationClassifier {
  readonly config: EvaluationClassifierConfig;
  readonly numClasses: number;
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** Penultimate-layer features [batch, featureDimension] (after SiLU): the FID feature space. */
  features(x: tf.Tensor): tf.Tensor2D;
  /** Class logits [batch, numClasses]; `timesteps` is ignored (a clean-image classifier). */
  logits(input: { readonly x: tf.Tensor; readonly timesteps?: tf.Tensor1D; readonly training?: boolean }): tf.Tensor2D;
  dispose(): void;
}

function conv(x: tf.Tensor4D, parameters: Conv2dParameters, stride: number): tf.Tensor4D {
  const pad =
    stride === 1
      ? 'same'
      : ([
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ] as tf.backend_util.ExplicitPadding);
  return tf.fused.conv2d({ x, filter: parameters.weight as tf.Tensor4D, strides: stride, pad, bias: parameters.bias });
}

function dense(x: tf.Tensor2D, parameters: DenseParameters): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: parameters.weight as tf.Tensor2D, bias: parameters.bias }) as tf.Tensor2D;
}

/**
 * A small CNN for clean digits, the feature extractor of the CLI's FID (the role Inception-v3
 * plays for ImageNet, Heusel et al. 2017): three 3x3 convolutions (stride 1, 2, 2) with SiLU, a
 * dense feature layer and a linear head. Seeded PyTorch-default initialisation (ParameterStore).
 */
export function createEvaluationClassifier(config: EvaluationClassifierConfig = DEFAULT_EVALUATION_CLASSIFIER_CONFIG): EvaluationClassifier {
  if (config.type !== 'evaluation-classifier' || config.imageSize % 4 !== 0 || config.channels.length !== 3) {
    throw new DiffusionError(
      'invalid-argument',
      `evaluation classifier config: expected type 'evaluation-classifier', imageSize divisible by 4 and 3 channel counts, got ${JSON.stringify(config)}`,
    );
  }
  const store = new ParameterStore(config.seed);
  const [c1, c2, c3] = config.channels;
  const conv1 = store.conv2d('conv1', config.inChannels, c1, 3);
  const conv2 = store.conv2d('conv2', c1, c2, 3);
  const conv3 = store.conv2d('conv3', c2, c3, 3);
  const flat = (config.imageSize / 4) ** 2 * c3;
  const feature = store.dense('feature', flat, config.featureDimension);
  const head = store.dense('head', config.featureDimension, config.numClasses);
  const features = (x: tf.Tensor): tf.Tensor2D =>
    tf.tidy(() => {
      let h = tf.cast(x, 'float32') as tf.Tensor4D;
      h = silu(conv(h, conv1, 1));
      h = silu(conv(h, conv2, 2));
      h = silu(conv(h, conv3, 2));
      return silu(dense(tf.reshape(h, [h.shape[0], flat]), feature));
    });
  return {
    config,
    numClasses: config.numClasses,
    parameters: store.parameters,
    features,
    logits: ({ x }) => tf.tidy(() => dense(features(x), head)),
    dispose: () => store.dispose(),
  };
}
