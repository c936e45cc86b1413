import * as tf from '@tensorflow/tfjs-core';
import {
  type DiffusionModel,
  type ModelInput,
  type NoiseSchedule,
  type PredictionKind,
  type VarianceKind,
  predictionTarget,
} from '@tfjs-diffusion/core';

export interface GaussianOracleOptions {
  readonly schedule: NoiseSchedule;
  /** The data is x0 ~ N(dataMean, dataStd^2), independently in every dimension. */
  readonly dataMean: number;
  readonly dataStd: number;
  readonly prediction: PredictionKind;
  readonly variance?: VarianceKind;
  /**
   * With 'learned-range': the constant v the model outputs, or 'optimal' for the v that gives the true
   * reverse variance Var[x_{t-1} | x_t] = betaTilde_t + c1_t^2 Var[x0 | x_t] of Gaussian data.
   */
  readonly varianceValue?: number | 'optimal';
  /** Added to the exact predicted x0 (0 gives the exact model). */
  readonly x0Error?: number;
}

/**
 * The exact denoiser for Gaussian data x0 ~ N(m, s^2): E[x0 | x_t] = m + sqrt(aBar) s^2 (x_t - sqrt(aBar) m)
 * / (aBar s^2 + 1 - aBar), and eps* = sqrt(1 - aBar) (x_t - sqrt(aBar) m) / (aBar s^2 + 1 - aBar).
 */
export function createGaussianOracleModel(options: GaussianOracleOptions): DiffusionModel {
  const { schedule, dataMean, dataStd, prediction } = options;
  const indexOfTimestep = new Map(schedule.timesteps.map((timestep, index) => [timestep, index]));
  return {
    prediction,
    variance: options.variance ?? 'fixed-small',
    conditioning: null,
    predict(input: ModelInput) {
      return tf.tidy(() => {
        const timesteps = input.timesteps.dataSync();
        const indices = Array.from(timesteps, (timestep) => {
          const index = indexOfTimestep.get(Math.round(timestep));
          if (index === undefined) throw new Error(`oracle: unknown timestep ${timestep}`);
          return index;
        });
        const alphaBarValues = Float32Array.from(indices, (index) => schedule.alphaBars[index] as number);
        const shape = [timesteps.length, ...new Array<number>(input.x.rank - 1).fill(1)];
        const alphaBar = tf.tensor(alphaBarValues, shape);
        const sqrtAlphaBar = tf.sqrt(alphaBar);
        const denominator = tf.add(tf.mul(alphaBar, dataStd ** 2), tf.sub(1, alphaBar));
        const residual = tf.sub(input.x, tf.mul(sqrtAlphaBar, dataMean));
        const x0 = tf.add(tf.add(dataMean, tf.div(tf.mul(tf.mul(sqrtAlphaBar, dataStd ** 2), residual), denominator)), options.x0Error ?? 0);
        // eps consistent with x0: (x_t - sqrt(aBar) x0) / sqrt(1 - aBar)
        const epsilon = tf.div(tf.sub(input.x, tf.mul(sqrtAlphaBar, x0)), tf.sqrt(tf.sub(1, alphaBar)));
        const output = predictionTarget(prediction, x0, epsilon, alphaBar);
        if (options.variance === 'learned-range') {
          const value = options.varianceValue ?? 0;
          if (value !== 'optimal') return { prediction: output, varianceValues: tf.fill(input.x.shape, value) };
          const values = Float32Array.from(indices, (index) => optimalVarianceValue(schedule, index, dataStd));
          return { prediction: output, varianceValues: tf.mul(tf.tensor(values, shape), tf.onesLike(input.x)) };
        }
        return { prediction: output };
      });
    },
  };
}

/** v such that learned-range gives log(betaTilde_i + c1_i^2 Var[x0 | x_i]) for data of std `dataStd`. */
export function optimalVarianceValue(schedule: NoiseSchedule, index: number, dataStd: number): number {
  const alphaBar = schedule.alphaBars[index] as number;
  const posteriorX0Variance = (dataStd ** 2 * (1 - alphaBar)) / (alphaBar * dataStd ** 2 + 1 - alphaBar);
  const c1 = schedule.posteriorMeanCoefficientsX0[index] as number;
  const optimal = (schedule.posteriorVariances[index] as number) + c1 * c1 * posteriorX0Variance;
  const minLog = schedule.posteriorLogVariancesClipped[index] as number;
  const maxLog = Math.log(schedule.betas[index] as number);
  // log Sigma = frac maxLog + (1 - frac) minLog, v = 2 frac - 1
  return (2 * (Math.log(optimal) - minLog)) / (maxLog - minLog) - 1;
}
