import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type Objective, type ObjectiveInput, type ObjectiveResult, type PredictionKind } from '@tfjs-diffusion/core';
import { predictionSquaredError } from './prediction-error.js';
import { checkPredictionOption } from './simple-objective.js';
import { stopGradient } from './stop-gradient.js';
import { drawTrainingBatch, predictOnNoisyData, weightedMean } from './training-batch.js';
import { vlbTerms } from './vlb-terms.js';

export interface HybridObjectiveOptions {
  /** lambda in L_simple + lambda L_vlb (default 0.001, Improved DDPM section 3.1). */
  readonly vlbWeight?: number;
  /** The space of the squared error, as for the 'simple' objective (the model's own kind by default). */
  readonly prediction?: PredictionKind;
}

/**
 * L_hybrid = L_simple + lambda L_vlb (Improved DDPM, Nichol & Dhariwal 2021, eq. 16), where L_vlb sees
 * a stop-gradient copy of the mean prediction so that it trains only the learned-range variance.
 *
 * Scaling: L_vlb = L_0 + ... + L_{N-1} is estimated from the one term L_t a sample draws (in bits/dim,
 * like improved-diffusion's `vb`) as N * L_t (N = the schedule's steps, T for a full schedule), so each sample's loss is
 * mse + lambda * N * L_t. With lambda = 0.001 this is improved-diffusion's `mse + vb * T / 1000`
 * exactly; a different lambda scales the same term. The constant prior L_T is left out.
 */
export function createHybridObjective(options: HybridObjectiveOptions = {}): Objective {
  const vlbWeight = options.vlbWeight ?? 0.001;
  if (!(Number.isFinite(vlbWeight) && vlbWeight >= 0)) {
    throw new DiffusionError('invalid-argument', `hybrid objective: vlbWeight must be a finite number >= 0, got ${vlbWeight}`);
  }
  const lossSpace = checkPredictionOption(options.prediction, 'hybrid');
  return {
    name: 'hybrid',
    compute(input: ObjectiveInput): ObjectiveResult {
      const { model, schedule } = input;
      if (model.variance !== 'learned-range') {
        throw new DiffusionError(
          'invalid-argument',
          `hybrid objective: L_vlb trains only the variance, so it needs a model with variance 'learned-range', but this model's variance is '${model.variance}'; use the 'simple' objective (or 'kl')`,
        );
      }
      const draws = drawTrainingBatch(input, 'hybrid');
      const tensors = tf.tidy(() => {
        const { epsilon, xt, output } = predictOnNoisyData(input, draws);
        // 1. L_simple per sample, through the whole network, eq. 14 of DDPM
        const mse = predictionSquaredError({
          schedule,
          indices: draws.indices,
          x0: input.x0,
          epsilon,
          xt,
          modelPrediction: model.prediction,
          prediction: output.prediction,
          lossSpace,
        });
        // 2. the mean is frozen (improved-diffusion's `frozen_out`): L_vlb reaches only the variance values
        const frozen = { prediction: stopGradient(output.prediction), varianceValues: output.varianceValues };
        const vb = vlbTerms({ model, schedule, x0: input.x0, xt, indices: draws.indices, output: frozen }).bits;
        // 3. lambda L_vlb ~ lambda N L_t, eq. 16 of Improved DDPM (= vb T / 1000 for lambda = 0.001)
        const scaledVb = tf.mul(vlbWeight * schedule.timesteps.length, vb) as tf.Tensor1D;
        const perSampleLoss = tf.add(mse, scaledVb) as tf.Tensor1D;
        // 4. weighted means; the terms add up to the loss
        const mseTerm = weightedMean(draws.weights, mse);
        const vlbTerm = weightedMean(draws.weights, scaledVb);
        return { loss: tf.add(mseTerm, vlbTerm) as tf.Scalar, perSampleLoss, mseTerm, vlbTerm };
      });
      return {
        loss: tensors.loss,
        perSampleLoss: tensors.perSampleLoss,
        indices: draws.indices,
        terms: { mse: tensors.mseTerm, vlb: tensors.vlbTerm },
      };
    },
  };
}
