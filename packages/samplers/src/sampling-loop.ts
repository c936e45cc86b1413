import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, assertShape, type NoiseSource, type SamplerOptions } from '@tfjs-diffusion/core';

/**
 * What one step hands back to the loop, which owns these tensors afterwards. A type alias (not an
 * interface) so that it is a `tf.TensorContainer` and `tf.tidy` keeps every tensor in it.
 */
export type StepOutcome = {
  /** The state carried into the next step: x_{t-1} in the sampler's own scaling. */
  x: tf.Tensor;
  /** The model's x0 prediction at this step. */
  predictedX0: tf.Tensor;
  /** x_{t-1} as `onStep` reports it, when the carried state is scaled differently (sigma samplers). */
  reported?: tf.Tensor;
};

/** The part of a step the loop needs; samplers extend it with their own step data. */
export interface LoopStep {
  /** 0 for the first (noisiest) step. */
  readonly stepNumber: number;
  /** Original timestep t of the step (fractional for Karras sigmas). */
  readonly timestep: number;
}

/** A sampler as the loop sees it: its steps, how to enter its state from x_T, and one step. */
export interface SamplingPlan<Step extends LoopStep> {
  readonly steps: readonly Step[];
  /** Maps x_T ~ N(0, I) to the carried state; runs inside tf.tidy. Identity when absent. */
  readonly start?: (xT: tf.Tensor) => tf.Tensor;
  /**
   * One step, synchronous; the loop runs it inside tf.tidy. `previousPredictedX0` is the x0
   * prediction of the step before (null on the first), for multistep solvers.
   */
  readonly step: (x: tf.Tensor, step: Step, previousPredictedX0: tf.Tensor | null) => StepOutcome;
}

/** Checks what every sampler receives; throws DiffusionError naming the bad argument. */
export function validateSamplerOptions(options: SamplerOptions): void {
  const { shape, initialNoise, condition, schedule } = options;
  if (!Array.isArray(shape) || shape.length < 1 || !shape.every((size) => Number.isInteger(size) && size > 0)) {
    throw new DiffusionError(
      'invalid-shape',
      `shape must be [batch, ...dataShape] of positive integers, got [${Array.isArray(shape) ? shape.join(', ') : String(shape)}]`,
    );
  }
  if (initialNoise) assertShape(initialNoise.shape, shape, 'initialNoise');
  if (condition?.classLabels) assertShape(condition.classLabels.shape, [shape[0] as number], 'condition.classLabels');
  const count = schedule.timesteps.length;
  if (count < 1) throw new DiffusionError('invalid-schedule', 'schedule must have at least one step');
  if (schedule.alphaBars.length !== count || schedule.sigmas.length !== count) {
    throw new DiffusionError(
      'invalid-schedule',
      `schedule arrays must have one entry per timestep (${count}), got ${schedule.alphaBars.length} alphaBars and ${schedule.sigmas.length} sigmas`,
    );
  }
}

/** Throws unless `value` is a finite number in [min, max]; names the option. */
export function assertInRange(value: number, min: number, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new DiffusionError('invalid-argument', `${what} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
}

/** Standard normal noise of `shape`, drawn on the host so a seed gives the same tensor on every backend. */
export function standardNormal(noise: NoiseSource, shape: readonly number[]): tf.Tensor {
  return tf.tensor(noise.normal(shape), [...shape], 'float32');
}

function throwIfAborted(signal: AbortSignal | undefined, stepNumber: number, totalSteps: number): void {
  if (!signal?.aborted) return;
  const error = new Error(`sampling was aborted before step ${stepNumber} of ${totalSteps}`, { cause: signal.reason });
  error.name = 'AbortError';
  throw error;
}

/**
 * The loop every sampler shares (part of the sampler kit, a stable API): checks the options
 * (`validateSamplerOptions`), x_T from `initialNoise` or the noise source, one tf.tidy per step,
 * `onStep` awaited with clones that are disposed once it settles, `signal` checked before each
 * step (AbortError). Whatever happens, the only tensor left behind is the returned sample.
 *
 * @example
 * // DDIM (eta = 0) in a few lines: the kit evaluates the model with guidance and clipping
 * const sampleMyDdim: Sampler = (options) =>
 *   runSamplingLoop(options, {
 *     steps: samplingSteps(options.schedule),
 *     step: (x, { index, timestep }) => {
 *       const { x0, epsilon } = evaluateModel(options, x, timestep, options.schedule.alphaBars[index]!, 'epsilon-shift');
 *       const previous = options.schedule.alphaBarsPrevious[index]!;
 *       return { x: tf.add(tf.mul(Math.sqrt(previous), x0), tf.mul(Math.sqrt(1 - previous), epsilon)), predictedX0: x0 };
 *     },
 *   });
 */
export async function runSamplingLoop<Step extends LoopStep>(options: SamplerOptions, plan: SamplingPlan<Step>): Promise<tf.Tensor> {
  validateSamplerOptions(options);
  const { shape, noise, initialNoise, onStep, signal } = options;
  const totalSteps = plan.steps.length;
  throwIfAborted(signal, 0, totalSteps);

  // 1. x_T ~ N(0, I): the caller's tensor (copied, never disposed) or the first draw of the source
  let x = tf.tidy(() => {
    const xT = initialNoise ? tf.cast(initialNoise, 'float32') : standardNormal(noise, shape);
    return plan.start ? plan.start(xT) : tf.clone(xT);
  });
  let previousPredictedX0: tf.Tensor | null = null;
  try {
    for (const step of plan.steps) {
      throwIfAborted(signal, step.stepNumber, totalSteps);
      const carried = x;
      const previous: tf.Tensor | null = previousPredictedX0;
      const outcome: StepOutcome = tf.tidy(() => plan.step(carried, step, previous));
      // 2. the step's outputs replace the state; a step may hand back one of its inputs unchanged
      for (const stale of [carried, previous]) {
        if (stale && stale !== outcome.x && stale !== outcome.predictedX0) stale.dispose();
      }
      x = outcome.x;
      previousPredictedX0 = outcome.predictedX0;
      // 3. the event's tensors are clones (or the step's own `reported`), so a callback that
      //    disposes them cannot break the state; they are disposed once the callback settles
      const eventX = outcome.reported ?? (onStep ? tf.clone(x) : null);
      try {
        if (onStep && eventX) {
          const eventX0 = tf.clone(outcome.predictedX0);
          try {
            await onStep({ stepNumber: step.stepNumber, totalSteps, timestep: step.timestep, x: eventX, predictedX0: eventX0 });
          } finally {
            eventX0.dispose();
          }
        }
      } finally {
        if (eventX && eventX !== x && eventX !== outcome.predictedX0) eventX.dispose();
      }
    }
  } catch (error) {
    x.dispose();
    previousPredictedX0?.dispose();
    throw error;
  }
  if (previousPredictedX0 && previousPredictedX0 !== x) previousPredictedX0.dispose();
  return x;
}
