import * as tf from '@tensorflow/tfjs-core';
import { type DiffusionModel, DiffusionError, type ModelCondition, type NoiseSchedule, type NoiseSource, samplingSteps } from '@tfjs-diffusion/core';
import { forwardDiffuse } from './forward-diffuse.js';
import { priorBitsPerDim } from './prior-bits-per-dim.js';
import { vlbTerms } from './vlb-terms.js';

export interface BitsPerDimStepEvent {
  /** 0 for the first (noisiest) step. */
  readonly stepNumber: number;
  readonly totalSteps: number;
  /** Schedule index and original timestep of the step just scored. */
  readonly index: number;
  readonly timestep: number;
  /** The mean over the batch of this step's term, bits/dim. */
  readonly bitsPerDim: number;
}

export interface EvaluateBitsPerDimOptions {
  readonly model: DiffusionModel;
  readonly schedule: NoiseSchedule;
  /** Data in [-1, 1] (8-bit values scaled), [batch, ...dataShape]. Not disposed. */
  readonly x0: tf.Tensor;
  readonly condition?: ModelCondition;
  /** The x_t of every step is drawn from it, noisiest step first. */
  readonly noise: NoiseSource;
  /** Clip predicted x0 to [-1, 1] (default true, as improved-diffusion's `calc_bpd_loop`). */
  readonly clipDenoised?: boolean;
  readonly onStep?: (event: BitsPerDimStepEvent) => void | Promise<void>;
  /** Stops the loop between steps with an AbortError. */
  readonly signal?: AbortSignal;
}

export interface BitsPerDimResult {
  /** Mean over the batch of the total bound L_0 + ... + L_{N-1} + L_T, bits/dim. */
  readonly bitsPerDim: number;
  /** The total bound of each sample, bits/dim. */
  readonly perSample: Float64Array;
  /** Mean prior term L_T = KL(q(x_T | x0) || N(0, I)). */
  readonly prior: number;
  /** Mean decoder term L_0 = -log p(x0 | x_1). */
  readonly decoder: number;
  /** Mean of the sum of the KL terms L_1 ... L_{N-1}. */
  readonly klTotal: number;
  /** Mean over the batch of the term at each schedule index i (terms[0] is the decoder). */
  readonly terms: Float64Array;
}

/**
 * The variational bound on -log p(x0) in bits/dim by scoring every step of the schedule
 * (DDPM, Ho et al. 2020, eq. 5; Improved DDPM section 2.1; improved-diffusion `calc_bpd_loop`).
 * Each step runs synchronously in tf.tidy; it leaves no tensor behind.
 */
export async function evaluateBitsPerDim(options: EvaluateBitsPerDimOptions): Promise<BitsPerDimResult> {
  const { model, schedule, x0, noise } = options;
  const batchSize = x0.shape[0];
  if (x0.rank < 1 || batchSize === undefined || batchSize < 1) {
    throw new DiffusionError('invalid-shape', `evaluateBitsPerDim: x0 must be [batch, ...dataShape] with batch >= 1, got [${x0.shape.join(', ')}]`);
  }
  const clipDenoised = options.clipDenoised ?? true;
  const steps = samplingSteps(schedule);
  const perSample = new Float64Array(batchSize);
  const terms = new Float64Array(steps.length);
  let decoderSum = 0;
  let klSum = 0;

  for (const step of steps) {
    options.signal?.throwIfAborted();
    const indices = new Int32Array(batchSize).fill(step.index);
    const epsilonValues = noise.normal(x0.shape);
    const bits = tf.tidy(() => {
      // 1. x_t ~ q(x_t | x0), eq. 4 of DDPM
      const xt = forwardDiffuse(schedule, x0, indices, tf.tensor(epsilonValues, x0.shape, 'float32'));
      const timesteps = tf.fill([batchSize], step.timestep, 'float32') as tf.Tensor1D;
      const output = model.predict({ x: xt, timesteps, condition: options.condition, training: false });
      // 2. L_{t-1} (or L_0 at the first index) for every sample, bits/dim
      return vlbTerms({ model, schedule, x0, xt, indices, output, clipDenoised }).bits;
    });
    const values = await bits.data();
    bits.dispose();
    let stepSum = 0;
    for (let sample = 0; sample < batchSize; sample += 1) {
      const value = values[sample] as number;
      // 3. the bound adds the terms of every step
      perSample[sample] = (perSample[sample] as number) + value;
      stepSum += value;
    }
    const stepMean = stepSum / batchSize;
    terms[step.index] = stepMean;
    if (step.index === 0) decoderSum += stepMean;
    else klSum += stepMean;
    await options.onStep?.({
      stepNumber: step.stepNumber,
      totalSteps: steps.length,
      index: step.index,
      timestep: step.timestep,
      bitsPerDim: stepMean,
    });
  }

  // 4. the prior term L_T, which no parameter changes
  const priorTensor = priorBitsPerDim(schedule, x0);
  const priorValues = await priorTensor.data();
  priorTensor.dispose();
  let priorSum = 0;
  let totalSum = 0;
  for (let sample = 0; sample < batchSize; sample += 1) {
    const value = priorValues[sample] as number;
    priorSum += value;
    perSample[sample] = (perSample[sample] as number) + value;
    totalSum += perSample[sample] as number;
  }
  return {
    bitsPerDim: totalSum / batchSize,
    perSample,
    prior: priorSum / batchSize,
    decoder: decoderSum,
    klTotal: klSum,
    terms,
  };
}
