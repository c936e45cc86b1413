import * as tf from '@tensorflow/tfjs-core';
import type { NoiseSchedule, Sampler, SamplerOptions } from '@tfjs-diffusion/core';
import { evaluateModel, runSamplingLoop, type StepOutcome } from '@tfjs-diffusion/samplers';

/**
 * One solver step: from schedule index `index` to `targetIndex` (-1: clean data), through the
 * intermediate index `middleIndex` for a second-order step (null: a first-order DDIM step).
 * `stepNumber` and `timestep` are what the kit's loop reports to `onStep`.
 */
export interface SolverStep {
  readonly stepNumber: number;
  readonly timestep: number;
  readonly index: number;
  readonly middleIndex: number | null;
  readonly targetIndex: number;
}

/**
 * The steps DPM-Solver-2 takes over a schedule of N steps, noisiest first: second-order steps
 * i -> i - 2 through i - 1 while they fit, then first-order steps down to index 0 and to clean data
 * (the last step is always first order: log-SNR is infinite at x0). Each schedule step is one
 * network evaluation, so the cost is N evaluations, as for DDIM on the same schedule.
 */
export function solverSteps(schedule: NoiseSchedule): SolverStep[] {
  const steps: SolverStep[] = [];
  let index = schedule.timesteps.length - 1;
  while (index >= 0) {
    const second = index >= 2;
    const targetIndex = second ? index - 2 : index - 1;
    const timestep = schedule.timesteps[index] as number;
    steps.push({ stepNumber: steps.length, timestep, index, middleIndex: second ? index - 1 : null, targetIndex });
    index = targetIndex;
  }
  return steps;
}

/** alpha = sqrt(aBar), sigma = sqrt(1 - aBar) and the half log-SNR lambda = log(alpha / sigma) at a schedule index (-1: clean data). */
function noiseLevel(schedule: NoiseSchedule, index: number): { alpha: number; sigma: number; lambda: number } {
  if (index < 0) return { alpha: 1, sigma: 0, lambda: Number.POSITIVE_INFINITY };
  const alphaBar = schedule.alphaBars[index] as number;
  return { alpha: Math.sqrt(alphaBar), sigma: Math.sqrt(1 - alphaBar), lambda: 0.5 * Math.log(alphaBar / (1 - alphaBar)) };
}

/**
 * (x0, eps) at schedule index `index`, from the kit's `evaluateModel`: the ORIGINAL timestep, every
 * prediction kind, `clipDenoised` and classifier guidance as an epsilon shift (ADM Algorithm 2).
 */
function denoise(options: SamplerOptions, x: tf.Tensor, index: number): { x0: tf.Tensor; epsilon: tf.Tensor } {
  const { schedule } = options;
  return evaluateModel(options, x, schedule.timesteps[index] as number, schedule.alphaBars[index] as number, 'epsilon-shift');
}
/** One synchronous solver step; returns x at the target index and the x0 predicted at the start. */
function solverStep(options: SamplerOptions, x: tf.Tensor, step: SolverStep): StepOutcome {
  const { schedule } = options;
  const start = noiseLevel(schedule, step.index);
  const target = noiseLevel(schedule, step.targetIndex);
  // 1. eps_i = eps(x, t_i) and x0_i
  const { x0, epsilon } = denoise(options, x, step.index);
  // 2. the first-order (DPM-Solver-1 = DDIM) update: x' = alpha_p x0_i + sigma_p eps_i,
  //    equal to (alpha_p / alpha_i) x - sigma_p (e^h - 1) eps_i with h = lambda_p - lambda_i
  const firstOrder = tf.add(tf.mul(target.alpha, x0), tf.mul(target.sigma, epsilon));
  if (step.middleIndex === null) return { x: firstOrder, predictedX0: x0 };
  const middle = noiseLevel(schedule, step.middleIndex);
  const h = target.lambda - start.lambda;
  // 3. r1 = (lambda_s - lambda_i) / h, the intermediate point's share of the step in log-SNR
  const r1 = (middle.lambda - start.lambda) / h;
  // 4. u = alpha_s x0_i + sigma_s eps_i, the first-order solution at s (DPM-Solver-2, Lu et al. 2022)
  const u = tf.add(tf.mul(middle.alpha, x0), tf.mul(middle.sigma, epsilon));
  // 5. eps_s = eps(u, s)
  const epsilonMiddle = denoise(options, u, step.middleIndex).epsilon;
  // 6. x_p = first order - sigma_p / (2 r1) (e^h - 1) (eps_s - eps_i), DPM-Solver-2 with a general r1
  const correction = (target.sigma / (2 * r1)) * Math.expm1(h);
  return { x: tf.sub(firstOrder, tf.mul(correction, tf.sub(epsilonMiddle, epsilon))), predictedX0: x0 };
}

/**
 * DPM-Solver-2 (Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model
 * Sampling"), the second-order single-step solver of the probability-flow ODE with a general
 * intermediate ratio r1, whose intermediate points are the schedule's own steps (so a network is
 * only ever fed integer original timesteps). Deterministic; a learned variance is ignored. The
 * loop (option checks, seeded x_T, tf.tidy per step, onStep, abort, tensor ownership) is the kit's
 * `runSamplingLoop`.
 */
export const sampleDpmSolver2: Sampler = async (options) =>
  runSamplingLoop(options, { steps: solverSteps(options.schedule), step: (x, step) => solverStep(options, x, step) });
