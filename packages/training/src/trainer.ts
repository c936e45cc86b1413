import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import {
  DiffusionError,
  createNoiseSource,
  type NoiseSchedule,
  type NoiseSource,
  type NoiseSourceState,
  type Objective,
  type TimestepSampler,
  type TrainableDiffusionModel,
} from '@tfjs-diffusion/core';
import { Adam, type AdamOptions, type AdamState } from './adam.js';
import { dropClassLabels } from './class-dropout.js';
import { clipByGlobalNorm, globalNorm } from './gradient-clipping.js';
import { warmupLearningRate } from './learning-rate.js';

/** The longest the training loop runs without letting the event loop take a turn. */
const YIELD_EVERY_MS = 50;

/** Resolves after one turn of the event loop (setImmediate in Node, a 0 ms timeout elsewhere). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Where training batches come from. The trainer disposes `x0` after the step. */
export interface BatchSource {
  next(): { x0: tf.Tensor; classLabels?: Int32Array };
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** Anything updated after each optimizer step, e.g. an exponential moving average of the parameters. */
export interface StepHook {
  update(): void;
}

export interface TrainerOptions {
  readonly model: TrainableDiffusionModel;
  readonly objective: Objective;
  readonly schedule: NoiseSchedule;
  readonly batches: BatchSource;
  readonly seed: number | string;
  readonly learningRate: number;
  readonly warmupSteps?: number;
  /** Global-norm clipping threshold; 0 or absent turns clipping off. */
  readonly gradientClipNorm?: number;
  readonly adam?: AdamOptions;
  readonly timestepSampler?: TimestepSampler;
  /** Classifier-free guidance training: probability of replacing a label by the null class. */
  readonly classDropoutProbability?: number;
  readonly ema?: StepHook;
  /** Stop after this many non-finite steps in a row (default 20). */
  readonly maxConsecutiveNonFinite?: number;
}

export interface TrainStepResult {
  readonly step: number;
  readonly loss: number;
  readonly skipped: boolean;
  readonly gradientNorm: number;
  readonly learningRate: number;
  readonly terms: Readonly<Record<string, number>>;
}

/** Everything needed to resume training exactly where it stopped (parameters are saved apart). */
export interface TrainerState {
  readonly step: number;
  readonly adam: AdamState;
  readonly noise: NoiseSourceState;
  readonly timestepSampler?: unknown;
  readonly batches?: unknown;
  readonly lossHistory: readonly number[];
  readonly skippedSteps: number;
}

/**
 * A seeded diffusion trainer: objective -> gradients -> non-finite guard -> clipping -> Adam
 * with warm-up -> EMA. One host read per step (the loss and the gradient norm).
 */
export class Trainer {
  readonly lossHistory: number[] = [];
  private stepCount = 0;
  private skipped = 0;
  private consecutiveNonFinite = 0;
  private readonly adam: Adam;
  private readonly noise: NoiseSource;
  private readonly nameByVariable = new Map<string, string>();
  private readonly variables: tf.Variable[];

  constructor(private readonly options: TrainerOptions) {
    const { learningRate, classDropoutProbability = 0, model } = options;
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
      throw new DiffusionError('invalid-argument', `learningRate must be a positive number, got ${learningRate}`);
    }
    if (!(classDropoutProbability >= 0 && classDropoutProbability <= 1)) {
      throw new DiffusionError('invalid-argument', `classDropoutProbability must be in [0, 1], got ${classDropoutProbability}`);
    }
    if (classDropoutProbability > 0 && model.conditioning?.nullClass == null) {
      throw new DiffusionError('invalid-argument', 'classDropoutProbability > 0 needs a class-conditional model with a null class');
    }
    this.noise = createNoiseSource(options.seed);
    this.adam = new Adam(model.parameters, options.adam);
    this.variables = [...model.parameters.values()];
    for (const [name, variable] of model.parameters) this.nameByVariable.set(variable.name, name);
  }

  get step(): number {
    return this.stepCount;
  }

  get skippedSteps(): number {
    return this.skipped;
  }

  /**
   * One training step; the gradients are computed synchronously, and the loss and gradient norm
   * are read with `await data()` (WebGPU in Node has no `dataSync`). Throws
   * DiffusionError('non-finite-loss') when too many steps in a row are not finite.
   */
  async trainStep(): Promise<TrainStepResult> {
    const { model, objective, schedule, batches, timestepSampler, classDropoutProbability = 0 } = this.options;
    const learningRate = warmupLearningRate(this.options.learningRate, this.stepCount, this.options.warmupSteps ?? 0);
    const batch = batches.next();
    let labels = batch.classLabels;
    if (labels && classDropoutProbability > 0) {
      labels = dropClassLabels(labels, classDropoutProbability, model.conditioning?.nullClass as number, this.noise);
    }
    const labelTensor = labels ? tf.tensor1d(labels, 'int32') : undefined;
    let perSampleLoss: tf.Tensor | undefined;
    let indices: Int32Array | undefined;
    let termTensors: Record<string, tf.Scalar> = {};
    try {
      const { value, grads } = tf.variableGrads(() => {
        const result = objective.compute({
          model,
          schedule,
          x0: batch.x0,
          condition: labelTensor ? { classLabels: labelTensor } : undefined,
          noise: this.noise,
          timestepSampler,
        });
        perSampleLoss = tf.keep(result.perSampleLoss);
        indices = result.indices;
        termTensors = Object.fromEntries(Object.entries(result.terms).map(([name, term]) => [name, tf.keep(term)]));
        return result.loss;
      }, this.variables);
      const gradients = new Map<string, tf.Tensor>();
      for (const [variableName, gradient] of Object.entries(grads)) {
        gradients.set(this.nameByVariable.get(variableName) as string, gradient);
      }
      const norm = globalNorm(gradients.values());
      const termEntries = Object.entries(termTensors);
      const [lossData, normData, ...termData] = await Promise.all([value.data(), norm.data(), ...termEntries.map(([, term]) => term.data())]);
      const [loss, gradientNorm] = [lossData[0] as number, normData[0] as number];
      const terms = Object.fromEntries(termEntries.map(([name], position) => [name, termData[position]?.[0] as number]));
      norm.dispose();
      value.dispose();

      if (!Number.isFinite(loss) || !Number.isFinite(gradientNorm)) {
        tf.dispose([...gradients.values()]);
        this.skipped += 1;
        this.consecutiveNonFinite += 1;
        this.stepCount += 1;
        const limit = this.options.maxConsecutiveNonFinite ?? 20;
        if (this.consecutiveNonFinite >= limit) {
          throw new DiffusionError(
            'non-finite-loss',
            `training stopped at step ${this.stepCount}: the loss or its gradient was not finite (${loss}, gradient norm ${gradientNorm}) ` +
              `${this.consecutiveNonFinite} steps in a row (${this.skipped} skipped in all); lower the learning rate or check the data`,
          );
        }
        return { step: this.stepCount, loss, skipped: true, gradientNorm, learningRate, terms };
      }
      this.consecutiveNonFinite = 0;

      const clipNorm = this.options.gradientClipNorm ?? 0;
      const clipped = clipByGlobalNorm(gradients, clipNorm, gradientNorm);
      tf.dispose([...gradients.values()]);
      this.adam.apply(clipped, learningRate);
      tf.dispose([...clipped.values()]);
      if (timestepSampler?.update && perSampleLoss && indices) {
        timestepSampler.update(indices, Float64Array.from(await perSampleLoss.data()));
      }
      this.options.ema?.update();
      this.stepCount += 1;
      this.lossHistory.push(loss);
      return { step: this.stepCount, loss, skipped: false, gradientNorm, learningRate, terms };
    } finally {
      tf.dispose([batch.x0, ...(labelTensor ? [labelTensor] : []), ...(perSampleLoss ? [perSampleLoss] : []), ...Object.values(termTensors)]);
    }
  }

  /**
   * Runs `steps` steps, awaiting `onStep` between them (for progress output and checkpoints). On cpu
   * and wasm `data()` resolves at once, so the loop would never leave the microtask queue: it yields
   * a macrotask turn at least every 50 ms, so that timers, I/O and an abort from a timer run during it.
   */
  async train(steps: number, onStep?: (result: TrainStepResult) => void | Promise<void>, signal?: AbortSignal): Promise<TrainStepResult | undefined> {
    let last: TrainStepResult | undefined;
    let yielded = performance.now();
    for (let count = 0; count < steps; count += 1) {
      if (performance.now() - yielded >= YIELD_EVERY_MS) {
        await nextMacrotask();
        yielded = performance.now();
      }
      signal?.throwIfAborted();
      last = await this.trainStep();
      await onStep?.(last);
    }
    return last;
  }

  async getState(): Promise<TrainerState> {
    return {
      step: this.stepCount,
      adam: await this.adam.getState(),
      noise: this.noise.getState(),
      timestepSampler: this.options.timestepSampler?.getState?.(),
      batches: this.options.batches.getState?.(),
      lossHistory: [...this.lossHistory],
      skippedSteps: this.skipped,
    };
  }

  /** Restores a state from `getState`; parameters (and EMA) must be restored by the caller. */
  setState(state: TrainerState): void {
    this.adam.setState(state.adam);
    this.noise.setState(state.noise);
    if (state.timestepSampler !== undefined) this.options.timestepSampler?.setState?.(state.timestepSampler);
    if (state.batches !== undefined) this.options.batches.setState?.(state.batches);
    this.stepCount = state.step;
    this.skipped = state.skippedSteps;
    this.lossHistory.splice(0, this.lossHistory.length, ...state.lossHistory);
  }

  dispose(): void {
    this.adam.dispose();
  }
}
