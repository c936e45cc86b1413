import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionModel, NoiseSchedule, PredictionKind } from '@tfjs-diffusion/core';
import { solverSteps } from '../dpm-solver-2.js';

/** Data x0 ~ N(mean, std^2 I), [batch, mean.length]. */
export interface GaussianData {
  readonly mean: readonly number[];
  readonly std: number;
}

/**
 * The exact denoiser of Gaussian data, a test-only "network": x_t ~ N(sqrt(a) mu, (a s^2 + 1 - a) I), so
 * E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) mu) / (a s^2 + 1 - a) and E[x0 | x_t] = mu + sqrt(a) s^2 (x_t - sqrt(a) mu) / (a s^2 + 1 - a),
 * with a = alphaBar of the FULL schedule at the original timestep the sampler feeds it.
 */
export function exactGaussianDenoiser(
  full: NoiseSchedule,
  data: GaussianData,
  prediction: PredictionKind = 'epsilon',
  onCall?: (timesteps: Float32Array) => void,
): DiffusionModel {
  const variance = data.std * data.std;
  return {
    prediction,
    variance: 'fixed-small',
    conditioning: null,
    predict: ({ x, timesteps }) =>
      tf.tidy(() => {
        const times = timesteps.dataSync() as Float32Array;
        onCall?.(times);
        const alphaBars = Float32Array.from(times, (timestep) => {
          if (!Number.isInteger(timestep)) throw new Error(`fractional timestep ${timestep}`);
          return full.alphaBars[timestep] as number;
        });
        const alphaBar = tf.tensor(alphaBars, [alphaBars.length, 1]);
        const mu = tf.tensor([...data.mean], [1, data.mean.length]);
        const residual = tf.div(tf.sub(x, tf.mul(tf.sqrt(alphaBar), mu)), tf.add(tf.mul(alphaBar, variance), tf.sub(1, alphaBar)));
        const epsilon = tf.mul(tf.sqrt(tf.sub(1, alphaBar)), residual);
        const x0 = tf.add(mu, tf.mul(tf.mul(tf.sqrt(alphaBar), variance), residual));
        // v = sqrt(aBar) eps - sqrt(1 - aBar) x0 (Salimans & Ho 2022)
        const output =
          prediction === 'epsilon'
            ? epsilon
            : prediction === 'x0'
              ? x0
              : tf.sub(tf.mul(tf.sqrt(alphaBar), epsilon), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), x0));
        return { prediction: output };
      }),
  };
}

/** x = slope * x_T + offsets[d]: with the exact Gaussian denoiser every deterministic sampler is affine in x_T. */
export interface AffineForm {
  readonly slope: number;
  readonly offsets: readonly number[];
}

/** The form's output distribution: mean offsets[d], standard deviation |slope|. */
export function formMoments(form: AffineForm): { mean: number[]; std: number } {
  return { mean: [...form.offsets], std: Math.abs(form.slope) };
}

const scale = (form: AffineForm, factor: number): AffineForm => ({
  slope: factor * form.slope,
  offsets: form.offsets.map((offset) => factor * offset),
});
const add = (left: AffineForm, right: AffineForm): AffineForm => ({
  slope: left.slope + right.slope,
  offsets: left.offsets.map((offset, dim) => offset + (right.offsets[dim] as number)),
});

/** E[x0 | x] and E[eps | x] as affine forms of x_T, at alphaBar a, from x's form. */
function posterior(form: AffineForm, data: GaussianData, alphaBar: number): { x0: AffineForm; epsilon: AffineForm } {
  const variance = data.std * data.std;
  const v = alphaBar * variance + 1 - alphaBar;
  const residual: AffineForm = {
    slope: form.slope / v,
    offsets: form.offsets.map((offset, dim) => (offset - Math.sqrt(alphaBar) * (data.mean[dim] as number)) / v),
  };
  return {
    epsilon: scale(residual, Math.sqrt(1 - alphaBar)),
    x0: add(scale(residual, Math.sqrt(alphaBar) * variance), { slope: 0, offsets: [...data.mean] }),
  };
}

/** The exact output of `sampleDpmSolver2` on Gaussian data, in float64 scalars, independently of the tf code. */
export function dpmSolver2Form(schedule: NoiseSchedule, data: GaussianData): AffineForm {
  const level = (index: number) => {
    const alphaBar = index < 0 ? 1 : (schedule.alphaBars[index] as number);
    return { alpha: Math.sqrt(alphaBar), sigma: Math.sqrt(1 - alphaBar), lambda: index < 0 ? Infinity : 0.5 * Math.log(alphaBar / (1 - alphaBar)) };
  };
  let form: AffineForm = { slope: 1, offsets: data.mean.map(() => 0) };
  for (const step of solverSteps(schedule)) {
    const start = level(step.index);
    const target = level(step.targetIndex);
    const { x0, epsilon } = posterior(form, data, schedule.alphaBars[step.index] as number);
    const firstOrder = add(scale(x0, target.alpha), scale(epsilon, target.sigma));
    if (step.middleIndex === null) {
      form = firstOrder;
      continue;
    }
    const middle = level(step.middleIndex);
    const h = target.lambda - start.lambda;
    const r1 = (middle.lambda - start.lambda) / h;
    const u = add(scale(x0, middle.alpha), scale(epsilon, middle.sigma));
    const epsilonMiddle = posterior(u, data, schedule.alphaBars[step.middleIndex] as number).epsilon;
    form = add(firstOrder, scale(add(epsilonMiddle, scale(epsilon, -1)), -(target.sigma / (2 * r1)) * Math.expm1(h)));
  }
  return form;
}

/** The exact output of deterministic DDIM (eta = 0) on the same schedule, for comparison at equal cost. */
export function ddimForm(schedule: NoiseSchedule, data: GaussianData): AffineForm {
  let form: AffineForm = { slope: 1, offsets: data.mean.map(() => 0) };
  for (let index = schedule.timesteps.length - 1; index >= 0; index -= 1) {
    const previous = index === 0 ? 1 : (schedule.alphaBars[index - 1] as number);
    const { x0, epsilon } = posterior(form, data, schedule.alphaBars[index] as number);
    form = add(scale(x0, Math.sqrt(previous)), scale(epsilon, Math.sqrt(1 - previous)));
  }
  return form;
}

/** Per-dimension mean and standard deviation of [n, dims] samples. */
export function columnStatistics(samples: tf.Tensor): { mean: number[]; std: number[] } {
  const [count, dims] = samples.shape as [number, number];
  const values = samples.dataSync();
  const mean: number[] = [];
  const std: number[] = [];
  for (let dim = 0; dim < dims; dim += 1) {
    let sum = 0;
    let squares = 0;
    for (let row = 0; row < count; row += 1) {
      const value = values[row * dims + dim] as number;
      sum += value;
      squares += value * value;
    }
    const average = sum / count;
    mean.push(average);
    std.push(Math.sqrt(squares / count - average * average));
  }
  return { mean, std };
}
