import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type NoiseSchedule, type SamplerOptions } from '@tfjs-diffusion/core';
import { evaluateModel } from './model-evaluation.js';
import { runSamplingLoop, validateSamplerOptions, type LoopStep, type StepOutcome } from './sampling-loop.js';

/**
 * Options shared by the sigma-space samplers (Euler, Euler ancestral, Heun, DPM-Solver++(2M)).
 * They integrate in the variance-exploding view x = x_vp / sqrt(aBar), sigma = sqrt((1 - aBar) / aBar)
 * (Karras et al. 2022, section 2).
 */
export interface SigmaSpacingOptions {
  /**
   * 'schedule' (default): the schedule's own sigmas, noisiest first, then 0.
   * 'karras': eq. 5 of Karras et al. 2022 between the schedule's smallest and largest sigma, then 0;
   * each sigma is fed to the network as a fractional original timestep, interpolated in log sigma
   * over the TRAINING schedule (k-diffusion's DiscreteSchedule.sigma_to_t): pass the full training
   * schedule (with `steps`), or a respaced one together with `trainingSchedule`; a respaced schedule
   * alone is refused, since its kept steps are too coarse to map sigma to t.
   */
  readonly sigmas?: 'schedule' | 'karras';
  /**
   * The full schedule the network was trained on, for sigmas: 'karras' on a respaced `schedule`:
   * sigma is mapped to t over all its T steps, not over the kept ones.
   */
  readonly trainingSchedule?: NoiseSchedule;
  /** Karras rho, > 0; default 7. Only with sigmas: 'karras'. */
  readonly rho?: number;
  /** Number of Karras sigmas (steps); default the schedule's step count. Only with sigmas: 'karras'. */
  readonly steps?: number;
}

/** One step of a sigma-space sampler: from `sigma` down to `sigmaNext`. */
export interface SigmaStep extends LoopStep {
  readonly sigma: number;
  /** 0 on the last step. */
  readonly sigmaNext: number;
  /** Original timestep at sigmaNext, -1 on the last step. */
  readonly timestepNext: number;
  /** The sigma of the step before this one (NaN on the first), for multistep solvers. */
  readonly sigmaLast: number;
}

/** Karras et al. 2022 eq. 5: sigma_i = (max^(1/rho) + i/(n-1) (min^(1/rho) - max^(1/rho)))^rho, descending. */
export function karrasSigmas(count: number, sigmaMin: number, sigmaMax: number, rho: number): number[] {
  const inverseMax = sigmaMax ** (1 / rho);
  const inverseMin = sigmaMin ** (1 / rho);
  const sigmas: number[] = [];
  for (let step = 0; step < count; step += 1) {
    const ramp = count === 1 ? 0 : step / (count - 1);
    sigmas.push((inverseMax + ramp * (inverseMin - inverseMax)) ** rho);
  }
  // the end points exactly, not after a round trip through the power
  sigmas[0] = sigmaMax;
  if (count > 1) sigmas[count - 1] = sigmaMin;
  return sigmas;
}

/** The original timestep at `sigma`, interpolated linearly in log sigma over the schedule's steps (clamped to its range). */
export function sigmaToTimestep(schedule: NoiseSchedule, sigma: number): number {
  const { sigmas, timesteps } = schedule;
  const last = sigmas.length - 1;
  if (sigma <= (sigmas[0] as number)) return timesteps[0] as number;
  if (sigma >= (sigmas[last] as number)) return timesteps[last] as number;
  let low = 0;
  let high = last;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if ((sigmas[middle] as number) <= sigma) low = middle;
    else high = middle;
  }
  const logLow = Math.log(sigmas[low] as number);
  const fraction = (Math.log(sigma) - logLow) / (Math.log(sigmas[high] as number) - logLow);
  const timestepLow = timesteps[low] as number;
  return timestepLow + fraction * ((timesteps[high] as number) - timestepLow);
}

/** The schedule Karras sigmas are mapped to timesteps over: the full training schedule, checked against `schedule`. */
function timestepMapSchedule(schedule: NoiseSchedule, trainingSchedule: NoiseSchedule | undefined): NoiseSchedule {
  const full = schedule.timesteps.length === schedule.trainingTimesteps && schedule.respacing === null;
  if (!trainingSchedule) {
    if (full) return schedule;
    throw new DiffusionError(
      'invalid-schedule',
      `sigmas: 'karras' needs the full training schedule to map sigma to t, but the schedule is respaced (${String(schedule.respacing)}, ` +
        `${schedule.timesteps.length} of ${schedule.trainingTimesteps} steps): pass the training schedule as the schedule (with steps), or as trainingSchedule`,
    );
  }
  const count = trainingSchedule.timesteps.length;
  if (trainingSchedule.respacing !== null || count !== schedule.trainingTimesteps || count !== trainingSchedule.trainingTimesteps) {
    throw new DiffusionError(
      'invalid-schedule',
      `trainingSchedule must be the full ${schedule.trainingTimesteps}-step schedule the sampling schedule was respaced from, got ${count} steps (respacing ${String(trainingSchedule.respacing)})`,
    );
  }
  // the kept steps must be the training schedule's own (same alphaBar at the same original timestep)
  for (const [index, timestep] of schedule.timesteps.entries()) {
    const kept = schedule.alphaBars[index] as number;
    const original = trainingSchedule.alphaBars[timestep];
    if (original === undefined || Math.abs(kept - original) > 1e-9 * Math.max(1e-12, original)) {
      throw new DiffusionError('invalid-schedule', `trainingSchedule does not match the schedule at original timestep ${timestep}`);
    }
  }
  return trainingSchedule;
}

/** The (sigma_i, sigma_{i+1}) pairs a sigma-space sampler walks, noisiest first, ending at 0. */
export function sigmaSteps(schedule: NoiseSchedule, spacing: SigmaSpacingOptions): SigmaStep[] {
  const kind = spacing.sigmas ?? 'schedule';
  if (kind !== 'schedule' && kind !== 'karras') {
    throw new DiffusionError('invalid-argument', `sigmas must be 'schedule' or 'karras', got ${String(kind)}`);
  }
  const count = schedule.sigmas.length;
  for (let index = 1; index < count; index += 1) {
    if (!((schedule.sigmas[index] as number) > (schedule.sigmas[index - 1] as number))) {
      throw new DiffusionError('invalid-schedule', `schedule sigmas must increase strictly with the step index (step ${index})`);
    }
  }
  let sigmas: number[];
  let timesteps: number[];
  if (kind === 'schedule') {
    if (spacing.rho !== undefined || spacing.steps !== undefined || spacing.trainingSchedule !== undefined) {
      throw new DiffusionError('invalid-argument', "rho, steps and trainingSchedule apply only with sigmas: 'karras'");
    }
    sigmas = Array.from(schedule.sigmas).reverse();
    timesteps = [...schedule.timesteps].reverse();
  } else {
    const rho = spacing.rho ?? 7;
    if (typeof rho !== 'number' || !Number.isFinite(rho) || rho <= 0) {
      throw new DiffusionError('invalid-argument', `rho must be a positive finite number, got ${String(rho)}`);
    }
    const steps = spacing.steps ?? count;
    if (!Number.isInteger(steps) || steps < 1) {
      throw new DiffusionError('invalid-argument', `steps must be a positive integer, got ${String(steps)}`);
    }
    const mapping = timestepMapSchedule(schedule, spacing.trainingSchedule);
    sigmas = karrasSigmas(steps, schedule.sigmas[0] as number, schedule.sigmas[count - 1] as number, rho);
    timesteps = sigmas.map((sigma) => sigmaToTimestep(mapping, sigma));
  }
  return sigmas.map((sigma, stepNumber) => ({
    stepNumber,
    sigma,
    timestep: timesteps[stepNumber] as number,
    sigmaNext: sigmas[stepNumber + 1] ?? 0,
    timestepNext: timesteps[stepNumber + 1] ?? -1,
    sigmaLast: stepNumber > 0 ? (sigmas[stepNumber - 1] as number) : Number.NaN,
  }));
}

/** The denoiser D(x; sigma) of Karras et al. 2022 and the ODE derivative d = (x - D) / sigma. */
export interface SigmaDenoising {
  /** D(x; sigma): predicted x0, in data space. */
  readonly denoised: tf.Tensor;
  /** d = (x - D(x; sigma)) / sigma, which is exactly the predicted eps (x = x0 + sigma eps). */
  readonly derivative: tf.Tensor;
}

/**
 * D(x; sigma) from a variance-preserving network (k-diffusion's DiscreteEpsDDPMDenoiser). Classifier
 * guidance g = s grad_{x_vp} log p(y | x_vp) enters as the eps shift eps - sqrt(1 - aBar) g, i.e.
 * D^ = D + (1 - aBar)/sqrt(aBar) g = D + sigma^2 grad_x log p(y | x) with x = x_vp / sqrt(aBar): the
 * Tweedie denoiser of the guided score, the same shift DDIM applies. Call inside tf.tidy.
 */
export function denoiseAtSigma(options: SamplerOptions, x: tf.Tensor, sigma: number, timestep: number): SigmaDenoising {
  // 1. aBar = 1 / (1 + sigma^2), and x_vp = sqrt(aBar) x
  const alphaBar = 1 / (1 + sigma * sigma);
  const xVp = tf.mul(Math.sqrt(alphaBar), x);
  // 2. (x0, eps) at aBar, with the guidance eps shift (ADM Algorithm 2)
  const { x0, epsilon } = evaluateModel(options, xVp, timestep, alphaBar, 'epsilon-shift');
  // 3. d = (x - x0) / sigma = eps, since x = x0 + sigma eps (eq. 4 of DDPM divided by sqrt(aBar))
  return { denoised: x0, derivative: epsilon };
}

/**
 * Runs a sigma-space sampler through the shared loop: x_T ~ N(0, I) in VP scaling enters as
 * x = x_T sqrt(1 + sigma_max^2) (= x_T / sqrt(aBar_T)), `onStep` sees x in VP scaling like the
 * other samplers, and the last step lands on sigma = 0, where both scalings are data space.
 */
export async function runSigmaSampler(
  options: SamplerOptions & SigmaSpacingOptions,
  step: (x: tf.Tensor, step: SigmaStep, previousPredictedX0: tf.Tensor | null) => StepOutcome,
): Promise<tf.Tensor> {
  validateSamplerOptions(options);
  const steps = sigmaSteps(options.schedule, options);
  const sigmaMax = (steps[0] as SigmaStep).sigma;
  return runSamplingLoop(options, {
    steps,
    // 1. x = x_T / sqrt(aBar_max)
    start: (xT) => tf.mul(Math.sqrt(1 + sigmaMax * sigmaMax), xT),
    step: (x, sigmaStep, previousPredictedX0) => {
      const outcome = step(x, sigmaStep, previousPredictedX0);
      if (!options.onStep || sigmaStep.sigmaNext === 0) return outcome;
      // 2. report x_vp = x / sqrt(1 + sigma_next^2)
      return { ...outcome, reported: tf.div(outcome.x, Math.sqrt(1 + sigmaStep.sigmaNext ** 2)) };
    },
  });
}
