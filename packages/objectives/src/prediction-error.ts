import * as tf from '@tensorflow/tfjs-core';
import { type NoiseSchedule, type PredictionKind, assertShape, perSampleValues, predictionTarget, toX0AndEpsilon } from '@tfjs-diffusion/core';
import { meanOverDataDimensions } from './mean-over-data-dimensions.js';

export interface PredictionErrorInput {
  readonly schedule: NoiseSchedule;
  readonly indices: ArrayLike<number>;
  readonly x0: tf.Tensor;
  readonly epsilon: tf.Tensor;
  readonly xt: tf.Tensor;
  /** What the network output means. */
  readonly modelPrediction: PredictionKind;
  /** The network output. */
  readonly prediction: tf.Tensor;
  /** Where the squared error is measured; the model's own kind when absent. */
  readonly lossSpace?: PredictionKind;
}

export const PREDICTION_KINDS: readonly PredictionKind[] = ['epsilon', 'x0', 'v'];

/**
 * Per-sample mean squared error between the network output and its target (L_simple of DDPM,
 * Ho et al. 2020, eq. 14, for eps; x0 or v targets by Salimans & Ho 2022), mean over data dimensions.
 * Call inside tf.tidy.
 */
export function predictionSquaredError(input: PredictionErrorInput): tf.Tensor1D {
  const { x0, epsilon, xt, prediction, modelPrediction } = input;
  assertShape(prediction.shape, x0.shape, 'model prediction');
  const space = input.lossSpace ?? modelPrediction;
  const alphaBar = perSampleValues(input.schedule.alphaBars, input.indices, x0.rank);
  // 1. the target in the loss space: eps, x0 or v = sqrt(aBar) eps - sqrt(1 - aBar) x0
  const target = predictionTarget(space, x0, epsilon, alphaBar);
  // 2. the output in the loss space (converted through (x0, eps) only when the spaces differ)
  let predicted = prediction;
  if (space !== modelPrediction) {
    const converted = toX0AndEpsilon(modelPrediction, prediction, xt, alphaBar);
    predicted = predictionTarget(space, converted.x0, converted.epsilon, alphaBar);
  }
  // 3. ||target - output||^2, mean over data dimensions
  return meanOverDataDimensions(tf.squaredDifference(target, predicted));
}
