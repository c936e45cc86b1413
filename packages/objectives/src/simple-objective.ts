import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type Objective, type ObjectiveInput, type ObjectiveResult, type PredictionKind } from '@tfjs-diffusion/core';
import { PREDICTION_KINDS, predictionSquaredError } from './prediction-error.js';
import { drawTrainingBatch, predictOnNoisyData, weightedMean } from './training-batch.js';

export interface SimpleObjectiveOptions {
  /**
   * The space the squared error is measured in. Absent (the usual case): the model's own
   * `prediction` kind, so its output is regressed directly on its target. Otherwise the output is
   * converted through (x0, eps) with core `toX0AndEpsilon` and compared in that space.
   */
  readonly prediction?: PredictionKind;
}

/**
 * L_simple = E_{t, x0, eps} ||target - output||^2 (DDPM, Ho et al. 2020, eq. 14), with eps, x0 or v
 * targets, timesteps from a (possibly importance) timestep sampler and the loss mean(w_i L_i).
 */
export function createSimpleObjective(options: SimpleObjectiveOptions = {}): Objective {
  const lossSpace = checkPredictionOption(options.prediction, 'simple');
  return {
    name: 'simple',
    compute(input: ObjectiveInput): ObjectiveResult {
      const draws = drawTrainingBatch(input, 'simple');
      const tensors = tf.tidy(() => {
        const { epsilon, xt, output } = predictOnNoisyData(input, draws);
        // 1. per-sample ||target - output||^2, mean over data dimensions, eq. 14 of DDPM
        const perSampleLoss = predictionSquaredError({
          schedule: input.schedule,
          indices: draws.indices,
          x0: input.x0,
          epsilon,
          xt,
          modelPrediction: input.model.prediction,
          prediction: output.prediction,
          lossSpace,
        });
        // 2. loss = mean(w_i L_i), unbiased for the uniform mean over t
        const loss = weightedMean(draws.weights, perSampleLoss);
        return { loss, perSampleLoss, mse: tf.clone(loss) };
      });
      return { loss: tensors.loss, perSampleLoss: tensors.perSampleLoss, indices: draws.indices, terms: { mse: tensors.mse } };
    },
  };
}

/** Validates the `prediction` (loss space) option of an objective. */
export function checkPredictionOption(prediction: PredictionKind | undefined, objectiveName: string): PredictionKind | undefined {
  if (prediction !== undefined && !PREDICTION_KINDS.includes(prediction)) {
    throw new DiffusionError(
      'invalid-argument',
      `${objectiveName} objective: prediction must be one of ${PREDICTION_KINDS.map((kind) => `'${kind}'`).join(', ')}, got ${JSON.stringify(prediction)}`,
    );
  }
  return prediction;
}
