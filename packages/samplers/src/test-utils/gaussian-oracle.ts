import type { NoiseSchedule } from '@tfjs-diffusion/core';
import type { SigmaStep } from '../sigma-space.js';

/**
 * Exact output distributions of the samplers on Gaussian data x0 ~ N(mu, s^2 I) driven by the exact
 * posterior-mean model, in float64 scalars and independently of the tf code: with that model every
 * step is affine in x plus independent Gaussian noise, so the output is exactly
 * x = slope * x_T + offset + N(0, noiseVariance) with x_T ~ N(0, I). Tests compare samples with these
 * moments within pure sampling error, and the moments with (mu, s) to state each method's bias.
 */
export interface GaussianData {
  readonly mean: readonly number[];
  readonly std: number;
}

/** x = slope * x_T + offsets[d] + N(0, noiseVariance), per dimension d. */
interface Form {
  readonly slope: number;
  readonly offsets: readonly number[];
  readonly noiseVariance: number;
}

/** The output distribution: per-dimension mean, common standard deviation, and the affine map of x_T. */
export interface Moments {
  readonly mean: number[];
  readonly std: number;
  readonly slope: number;
  readonly noiseVariance: number;
}

/** x' = gain x + shift[d] + noiseStd z, z fresh. */
function step(form: Form, gain: number, shift: readonly number[], noiseStd: number): Form {
  return {
    slope: gain * form.slope,
    offsets: form.offsets.map((offset, dim) => gain * offset + (shift[dim] as number)),
    noiseVariance: gain * gain * form.noiseVariance + noiseStd * noiseStd,
  };
}

/** A weighted sum of deterministic forms (multistep solvers). */
function combine(terms: readonly (readonly [Form, number])[]): Form {
  const first = (terms[0] as readonly [Form, number])[0];
  return terms.reduce<Form>(
    (sum, [form, weight]) => {
      if (form.noiseVariance !== 0) throw new Error('combine is only for deterministic forms');
      return {
        slope: sum.slope + weight * form.slope,
        offsets: sum.offsets.map((offset, dim) => offset + weight * (form.offsets[dim] as number)),
        noiseVariance: 0,
      };
    },
    { slope: 0, offsets: first.offsets.map(() => 0), noiseVariance: 0 },
  );
}

function moments(form: Form): Moments {
  return {
    mean: [...form.offsets],
    std: Math.sqrt(form.slope * form.slope + form.noiseVariance),
    slope: form.slope,
    noiseVariance: form.noiseVariance,
  };
}

function start(data: GaussianData, scale: number): Form {
  return { slope: scale, offsets: data.mean.map(() => 0), noiseVariance: 0 };
}

/**
 * VP posterior at alphaBar a: E[x0 | x] = gx x + (1 - a s^2 / v) mu and E[eps | x] = ge x - ge sqrt(a) mu,
 * v = a s^2 + 1 - a, gx = sqrt(a) s^2 / v, ge = sqrt(1 - a) / v.
 */
function vpPosterior(data: GaussianData, alphaBar: number) {
  const variance = data.std * data.std;
  const v = alphaBar * variance + 1 - alphaBar;
  const x0Gain = (Math.sqrt(alphaBar) * variance) / v;
  const epsilonGain = Math.sqrt(1 - alphaBar) / v;
  return {
    x0Gain,
    x0Shift: data.mean.map((mu) => (1 - (alphaBar * variance) / v) * mu),
    epsilonGain,
    epsilonShift: data.mean.map((mu) => -epsilonGain * Math.sqrt(alphaBar) * mu),
  };
}

/** DDPM ancestral sampling with fixed-small or fixed-large variance. */
export function ddpmMoments(schedule: NoiseSchedule, data: GaussianData, variance: 'fixed-small' | 'fixed-large'): Moments {
  let form = start(data, 1);
  for (let index = schedule.timesteps.length - 1; index >= 0; index -= 1) {
    const posterior = vpPosterior(data, schedule.alphaBars[index] as number);
    const onX0 = schedule.posteriorMeanCoefficientsX0[index] as number;
    const onXt = schedule.posteriorMeanCoefficientsXt[index] as number;
    const stepVariance = variance === 'fixed-small' ? (schedule.posteriorVariances[index] as number) : (schedule.betas[index] as number);
    form = step(
      form,
      onX0 * posterior.x0Gain + onXt,
      posterior.x0Shift.map((shift) => onX0 * shift),
      index === 0 ? 0 : Math.sqrt(stepVariance),
    );
  }
  return moments(form);
}

/** DDIM with stochasticity eta. */
export function ddimMoments(schedule: NoiseSchedule, data: GaussianData, eta: number): Moments {
  let form = start(data, 1);
  for (let index = schedule.timesteps.length - 1; index >= 0; index -= 1) {
    const alphaBar = schedule.alphaBars[index] as number;
    const previous = index === 0 ? 1 : (schedule.alphaBars[index - 1] as number);
    const posterior = vpPosterior(data, alphaBar);
    const sigma = eta * Math.sqrt(((1 - previous) / (1 - alphaBar)) * (1 - alphaBar / previous));
    const direction = Math.sqrt(Math.max(0, 1 - previous - sigma * sigma));
    form = step(
      form,
      Math.sqrt(previous) * posterior.x0Gain + direction * posterior.epsilonGain,
      data.mean.map((_, dim) => Math.sqrt(previous) * (posterior.x0Shift[dim] as number) + direction * (posterior.epsilonShift[dim] as number)),
      sigma,
    );
  }
  return moments(form);
}

export type SigmaMethod = 'euler' | 'euler-ancestral' | 'heun' | 'dpm-solver-plus-plus-2m';

/**
 * The sigma-space samplers in the VE view x = x0 + sigma eps: D(x; sigma) = mu + g (x - mu) with
 * g = s^2 / (s^2 + sigma^2), and dx/dsigma = (x - D) / sigma = k (x - mu) with k = sigma / (s^2 + sigma^2).
 */
export function sigmaMoments(steps: readonly SigmaStep[], data: GaussianData, method: SigmaMethod, eta = 1): Moments {
  const variance = data.std * data.std;
  const k = (sigma: number): number => sigma / (variance + sigma * sigma);
  const g = (sigma: number): number => variance / (variance + sigma * sigma);
  // x' = gain (x - mu) + mu  ->  shift = (1 - gain) mu
  const towards = (form: Form, gain: number, noiseStd = 0): Form =>
    step(
      form,
      gain,
      data.mean.map((mu) => (1 - gain) * mu),
      noiseStd,
    );
  const sigmaMax = (steps[0] as SigmaStep).sigma;
  let form = start(data, Math.sqrt(1 + sigmaMax * sigmaMax));
  let previousDenoised: Form | null = null;
  for (const { sigma, sigmaNext, sigmaLast } of steps) {
    const denoised = towards(form, g(sigma));
    const h = sigmaNext - sigma;
    if (sigmaNext === 0) {
      form = denoised;
    } else if (method === 'euler') {
      form = towards(form, 1 + h * k(sigma));
    } else if (method === 'euler-ancestral') {
      const up = Math.min(sigmaNext, eta * Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2));
      const down = Math.sqrt(sigmaNext ** 2 - up ** 2);
      form = towards(form, 1 + (down - sigma) * k(sigma), up);
    } else if (method === 'heun') {
      // predictor y_p = (1 + h k1) y, then y' = y + h/2 (k1 y + k2 y_p)
      const k1 = k(sigma);
      form = towards(form, 1 + (h / 2) * (k1 + k(sigmaNext) * (1 + h * k1)));
    } else {
      const lambdaStep = Math.log(sigma / sigmaNext);
      let estimate = denoised;
      if (previousDenoised) {
        const ratio = Math.log(sigmaLast / sigma) / lambdaStep;
        estimate = combine([
          [denoised, 1 + 1 / (2 * ratio)],
          [previousDenoised, -1 / (2 * ratio)],
        ]);
      }
      form = combine([
        [form, sigmaNext / sigma],
        [estimate, -Math.expm1(-lambdaStep)],
      ]);
    }
    previousDenoised = denoised;
  }
  return moments(form);
}
