import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionModel, NoiseSchedule, PredictionKind, VarianceKind } from '@tfjs-diffusion/core';

/**
 * Test-only "networks" that are the exact posterior means of known data distributions, so a
 * sampler's output can be compared with the data distribution itself. Data are [batch, dims].
 */

/** alphaBar at a (possibly fractional) original timestep: exact at integers, linear in log sigma between. */
export function alphaBarAt(full: NoiseSchedule, timestep: number): number {
  const low = Math.max(0, Math.min(full.alphaBars.length - 1, Math.floor(timestep)));
  const fraction = timestep - low;
  if (fraction <= 0 || low + 1 >= full.alphaBars.length) return full.alphaBars[low] as number;
  const logSigma = (1 - fraction) * Math.log(full.sigmas[low] as number) + fraction * Math.log(full.sigmas[low + 1] as number);
  return 1 / (1 + Math.exp(2 * logSigma));
}

/** E[x0 | x_t] and E[eps | x_t] for a batch x at per-sample alphaBar a ([batch, 1]). */
type Posterior = (x: tf.Tensor, alphaBar: tf.Tensor) => { x0: tf.Tensor; epsilon: tf.Tensor };

interface ModelExtras {
  readonly prediction?: PredictionKind;
  readonly variance?: VarianceKind;
  /** With 'learned-range': the constant v every step returns. */
  readonly varianceValue?: number;
  /** A constant guidance gradient g to return with every prediction. */
  readonly guidanceGradient?: readonly number[];
  /** Called with the timesteps of each call. */
  readonly onCall?: (timesteps: Float32Array) => void;
}

function posteriorModel(full: NoiseSchedule, posterior: Posterior, extras: ModelExtras): DiffusionModel {
  const prediction = extras.prediction ?? 'epsilon';
  const variance = extras.variance ?? 'fixed-small';
  return {
    prediction,
    variance,
    conditioning: null,
    predict: ({ x, timesteps }) =>
      tf.tidy(() => {
        const times = timesteps.dataSync() as Float32Array;
        extras.onCall?.(times);
        const alphaBars = Float32Array.from(times, (timestep) => alphaBarAt(full, timestep));
        const alphaBar = tf.tensor(alphaBars, [alphaBars.length, 1]);
        const { x0, epsilon } = posterior(x, alphaBar);
        // v = sqrt(aBar) eps - sqrt(1 - aBar) x0 (Salimans & Ho 2022)
        const output =
          prediction === 'epsilon'
            ? epsilon
            : prediction === 'x0'
              ? x0
              : tf.sub(tf.mul(tf.sqrt(alphaBar), epsilon), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), x0));
        return {
          prediction: output,
          ...(variance === 'learned-range' ? { varianceValues: tf.fill(x.shape, extras.varianceValue ?? 0) } : {}),
          ...(extras.guidanceGradient
            ? { guidanceGradient: tf.mul(tf.onesLike(x), tf.tensor([...extras.guidanceGradient], [1, extras.guidanceGradient.length])) }
            : {}),
        };
      }),
  };
}

/**
 * For x0 ~ N(mu, s^2 I): x_t ~ N(sqrt(a) mu, (a s^2 + 1 - a) I), so
 * E[eps | x_t] = sqrt(1 - a)(x_t - sqrt(a) mu) / (a s^2 + 1 - a) and
 * E[x0 | x_t] = mu + sqrt(a) s^2 (x_t - sqrt(a) mu) / (a s^2 + 1 - a).
 */
export function gaussianModel(
  full: NoiseSchedule,
  data: { readonly mean: readonly number[]; readonly std: number },
  extras: ModelExtras = {},
): DiffusionModel {
  const mean = [...data.mean];
  const variance = data.std * data.std;
  return posteriorModel(
    full,
    (x, alphaBar) => {
      const mu = tf.tensor(mean, [1, mean.length]);
      const sqrtAlphaBar = tf.sqrt(alphaBar);
      const residual = tf.div(tf.sub(x, tf.mul(sqrtAlphaBar, mu)), tf.add(tf.mul(alphaBar, variance), tf.sub(1, alphaBar)));
      return {
        epsilon: tf.mul(tf.sqrt(tf.sub(1, alphaBar)), residual),
        x0: tf.add(mu, tf.mul(tf.mul(sqrtAlphaBar, variance), residual)),
      };
    },
    extras,
  );
}

/**
 * For x0 ~ sum_k w_k N(m_k, s^2 I): responsibilities r_k(x_t) proportional to w_k N(x_t; sqrt(a) m_k, v I),
 * v = a s^2 + 1 - a, and the posterior means are the r-weighted per-component ones.
 */
export function mixtureModel(
  full: NoiseSchedule,
  data: { readonly weights: readonly number[]; readonly means: readonly (readonly number[])[]; readonly std: number },
  extras: ModelExtras = {},
): DiffusionModel {
  const dims = (data.means[0] as readonly number[]).length;
  const variance = data.std * data.std;
  return posteriorModel(
    full,
    (x, alphaBar) => {
      const sqrtAlphaBar = tf.sqrt(alphaBar);
      const v = tf.add(tf.mul(alphaBar, variance), tf.sub(1, alphaBar));
      const residuals = data.means.map((mean) => tf.div(tf.sub(x, tf.mul(sqrtAlphaBar, tf.tensor([...mean], [1, dims]))), v));
      // log w_k - (dims/2) log v - |x - sqrt(a) m_k|^2 / (2 v); v is the same for every component
      const logits = tf.concat(
        residuals.map((residual, component) =>
          tf.sub(Math.log(data.weights[component] as number), tf.mul(0.5, tf.sum(tf.mul(tf.square(residual), v), 1, true))),
        ),
        1,
      );
      const responsibilities = tf.softmax(logits, 1);
      const pick = (component: number): tf.Tensor => tf.slice(responsibilities, [0, component], [-1, 1]);
      const weightedResidual = tf.addN(residuals.map((residual, component) => tf.mul(pick(component), residual)));
      const weightedMean = tf.addN(data.means.map((mean, component) => tf.mul(pick(component), tf.tensor([...mean], [1, dims]))));
      return {
        epsilon: tf.mul(tf.sqrt(tf.sub(1, alphaBar)), weightedResidual),
        x0: tf.add(weightedMean, tf.mul(tf.mul(sqrtAlphaBar, variance), weightedResidual)),
      };
    },
    extras,
  );
}

/** Per-dimension mean and standard deviation of [batch, dims] samples. */
export function columnStatistics(samples: tf.Tensor): { mean: number[]; std: number[] } {
  const [batch, dims] = samples.shape as [number, number];
  const values = samples.dataSync();
  const mean: number[] = [];
  const std: number[] = [];
  for (let dim = 0; dim < dims; dim += 1) {
    let sum = 0;
    let sumSquares = 0;
    for (let row = 0; row < batch; row += 1) {
      const value = values[row * dims + dim] as number;
      sum += value;
      sumSquares += value * value;
    }
    const average = sum / batch;
    mean.push(average);
    std.push(Math.sqrt(sumSquares / batch - average * average));
  }
  return { mean, std };
}

/** Largest absolute element-wise difference of two same-shape tensors. */
export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  const left = a.dataSync();
  const right = b.dataSync();
  let worst = 0;
  for (let position = 0; position < left.length; position += 1) {
    worst = Math.max(worst, Math.abs((left[position] as number) - (right[position] as number)));
  }
  return worst;
}
