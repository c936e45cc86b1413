import * as tf from '@tensorflow/tfjs-core';
import {
  DiffusionError,
  assertShape,
  toX0AndEpsilon,
  type NoiseSchedule,
  type Sampler,
  type SamplerOptions,
} from '@tfjs-diffusion/core';

/**
 * One solver step: from schedule index `index` to `targetIndex` (-1: clean data), through the
 * intermediate index `middleIndex` for a second-order step (null: a first-order DDIM step).
 */
export interface SolverStep {
  readonly stepNumber: number;
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
    steps.push({ stepNumber: steps.length, index, middleIndex: second ? index - 1 : null, targetIndex });
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
 * (x0, eps) from the model at schedule index `index`, fed the ORIGINAL timestep, with clipping and
 * classifier guidance as an epsilon shift (Dhariwal & Nichol 2021, Algorithm 2). Call inside tf.tidy.
 */
function denoise(options: SamplerOptions, x: tf.Tensor, index: number): { x0: tf.Tensor; epsilon: tf.Tensor } {
  const { model, schedule, condition, clipDenoised } = options;
  const alphaBar = schedule.alphaBars[index] as number;
  const timesteps = tf.fill([x.shape[0] as number], schedule.timesteps[index] as number, 'float32') as tf.Tensor1D;
  const output = model.predict({ x, timesteps, ...(condition ? { condition } : {}) });
  assertShape(output.prediction.shape, x.shape, `model prediction (${model.prediction})`);
  // 1. any prediction kind -> (x0, eps), eq. 15 of DDPM / v of Salimans & Ho 2022
  let { x0, epsilon } = toX0AndEpsilon(model.prediction, output.prediction, x, alphaBar);
  if (clipDenoised) {
    // 2. clip x0, then eps = (x_t - sqrt(aBar) x0) / sqrt(1 - aBar) so the pair stays consistent
    x0 = tf.clipByValue(x0, -1, 1);
    epsilon = tf.div(tf.sub(x, tf.mul(Math.sqrt(alphaBar), x0)), Math.sqrt(1 - alphaBar));
  }
  if (output.guidanceGradient) {
    // 3. eps^ = eps - sqrt(1 - aBar) g (ADM Algorithm 2), x0 recomputed from it (eq. 15 of DDPM)
    epsilon = tf.sub(epsilon, tf.mul(Math.sqrt(1 - alphaBar), output.guidanceGradient));
    x0 = tf.div(tf.sub(x, tf.mul(Math.sqrt(1 - alphaBar), epsilon)), Math.sqrt(alphaBar));
  }
  return { x0, epsilon };
}

/** One synchronous solver step; returns x at the target index and the x0 predicted at the start. */
function solverStep(options: SamplerOptions, x: tf.Tensor, step: SolverStep): { x: tf.Tensor; predictedX0: tf.Tensor } {
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

function checkOptions(options: SamplerOptions): void {
  const { shape, schedule, initialNoise, condition } = options;
  if (!Array.isArray(shape) || shape.length < 1 || !shape.every((size) => Number.isInteger(size) && size > 0)) {
    throw new DiffusionError('invalid-shape', `shape must be [batch, ...dataShape] of positive integers, got [${String(shape)}]`);
  }
  if (schedule.timesteps.length < 1) throw new DiffusionError('invalid-schedule', 'schedule must have at least one step');
  if (initialNoise) assertShape(initialNoise.shape, shape, 'initialNoise');
  if (condition?.classLabels) assertShape(condition.classLabels.shape, [shape[0] as number], 'condition.classLabels');
}

/**
 * DPM-Solver-2 (Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model
 * Sampling"), the second-order single-step solver of the probability-flow ODE with a general
 * intermediate ratio r1, whose intermediate points are the schedule's own steps (so a network is
 * only ever fed integer original timesteps). Deterministic; a learned variance is ignored.
 */
export const sampleDpmSolver2: Sampler = async (options) => {
  checkOptions(options);
  const { shape, noise, initialNoise, onStep, signal } = options;
  const steps = solverSteps(options.schedule);
  // 1. x_T ~ N(0, I) from the seeded host noise source (or the caller's tensor, which is not disposed)
  let x = initialNoise ? tf.tidy(() => tf.cast(initialNoise, 'float32').clone()) : tf.tensor(noise.normal(shape), [...shape], 'float32');
  try {
    for (const step of steps) {
      if (signal?.aborted) {
        const error = new Error(`sampling was aborted before step ${step.stepNumber} of ${steps.length}`, { cause: signal.reason });
        error.name = 'AbortError';
        throw error;
      }
      // 2. one synchronous step inside tf.tidy; only the returned tensors survive it
      const carried = x;
      const outcome = tf.tidy(() => solverStep(options, carried, step));
      carried.dispose();
      x = outcome.x;
      try {
        // 3. the callback sees clones of x and x0, disposed once its promise settles
        if (onStep) {
          const eventX = tf.clone(x);
          const eventX0 = tf.clone(outcome.predictedX0);
          try {
            await onStep({
              stepNumber: step.stepNumber,
              totalSteps: steps.length,
              timestep: options.schedule.timesteps[step.index] as number,
              x: eventX,
              predictedX0: eventX0,
            });
          } finally {
            eventX.dispose();
            eventX0.dispose();
          }
        }
      } finally {
        outcome.predictedX0.dispose();
      }
    }
  } catch (error) {
    x.dispose();
    throw error;
  }
  return x;
};
