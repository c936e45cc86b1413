import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { ParsedModelFile } from '@tfjs-diffusion/checkpoints';
import { ParameterStore, loadParameters, silu, type Conv2dParameters, type DenseParameters } from '@tfjs-diffusion/networks';

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

/** Any clean-image classifier with a feature layer: what the metrics need (the role Inception-v3 plays for ImageNet FID). */
export interface FeatureClassifier {
  readonly numClasses: number;
  readonly featureDimension: number;
  /** Penultimate-layer features [batch, featureDimension]: the FID feature space. */
  features(x: tf.Tensor): tf.Tensor2D;
  /** Class logits [batch, numClasses]. */
  logits(input: { readonly x: tf.Tensor }): tf.Tensor2D;
}

export interface EvaluationClassifier extends FeatureClassifier {
  readonly config: EvaluationClassifierConfig;
  readonly parameters: ReadonlyMap<string, tf.Variable>;
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
 * A small CNN for clean digits, the feature extractor of FID here (the role Inception-v3
 * plays for ImageNet, Heusel et al. 2017): three 3x3 convolutions (stride 1, 2, 2) with SiLU, a
 * dense feature layer and a linear head. Seeded PyTorch-default initialisation (ParameterStore).
 */
export function createEvaluationClassifier(config: EvaluationClassifierConfig = DEFAULT_EVALUATION_CLASSIFIER_CONFIG): EvaluationClassifier {
  const positive = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= 4096;
  if (
    config?.type !== 'evaluation-classifier' ||
    !positive(config.imageSize) ||
    config.imageSize % 4 !== 0 ||
    !Array.isArray(config.channels) ||
    config.channels.length !== 3 ||
    !config.channels.every(positive) ||
    ![config.inChannels, config.numClasses, config.featureDimension].every(positive)
  ) {
    throw new DiffusionError(
      'invalid-argument',
      `evaluation classifier config: expected type 'evaluation-classifier', imageSize divisible by 4, 3 channel counts and positive inChannels, numClasses, featureDimension (each at most 4096), got ${JSON.stringify(config)}`,
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
    featureDimension: config.featureDimension,
    parameters: store.parameters,
    features,
    logits: ({ x }) => tf.tidy(() => dense(features(x), head)),
    dispose: () => store.dispose(),
  };
}

/**
 * The evaluation classifier a model file holds (written by `tfjs-diffusion train-classifier --kind
 * evaluation`; format version 0 or 1): checks the network type, builds the CNN and loads its
 * weights; errors name the file.
 */
export function evaluationClassifierFromModelFile(file: ParsedModelFile): EvaluationClassifier {
  const config = file.metadata.network;
  if (config.type !== 'evaluation-classifier') {
    throw new DiffusionError('invalid-checkpoint', `${file.name} holds a ${JSON.stringify(config.type)} network, not an evaluation classifier`);
  }
  let classifier: EvaluationClassifier;
  try {
    classifier = createEvaluationClassifier(config as unknown as EvaluationClassifierConfig);
  } catch (error) {
    throw new DiffusionError('invalid-checkpoint', `${file.name}: network config: ${(error as Error).message}`, { cause: error });
  }
  try {
    loadParameters(classifier, file.tensors);
  } catch (error) {
    classifier.dispose();
    throw new DiffusionError('invalid-checkpoint', `${file.name}: ${(error as Error).message}`, { cause: error });
  }
  return classifier;
}
