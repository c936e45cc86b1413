import * as tf from '@tensorflow/tfjs-core';
// Objectives are differentiated (tf.variableGrads, optimizer.minimize): make sure every op has its gradient.
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError, type ModelOutput, type ObjectiveInput } from '@tfjs-diffusion/core';
import { forwardDiffuse } from './forward-diffuse.js';
import { createUniformTimestepSampler } from './uniform-timestep-sampler.js';

/** The host-side draws of one training batch: schedule indices, their loss weights and the noise. */
export interface TrainingDraws {
  readonly indices: Int32Array;
  readonly weights: Float64Array;
  readonly epsilon: Float32Array;
}

/**
 * Draws a training batch on the host, in a fixed order from `input.noise`: first the timesteps (from
 * the timestep sampler, uniform by default), then eps ~ N(0, I) of x0's shape (DDPM Algorithm 1).
 */
export function drawTrainingBatch(input: ObjectiveInput, objectiveName: string): TrainingDraws {
  const { x0, schedule } = input;
  const batchSize = x0.shape[0];
  if (x0.rank < 1 || batchSize === undefined || batchSize < 1) {
    throw new DiffusionError(
      'invalid-shape',
      `${objectiveName} objective: x0 must be [batch, ...dataShape] with batch >= 1, got [${x0.shape.join(', ')}]`,
    );
  }
  const count = schedule.timesteps.length;
  const sampler = input.timestepSampler ?? createUniformTimestepSampler(count);
  const samplerSteps = (sampler as { readonly numSteps?: unknown }).numSteps;
  if (typeof samplerSteps === 'number' && samplerSteps !== count) {
    throw new DiffusionError(
      'invalid-argument',
      `${objectiveName} objective: timestep sampler '${sampler.name}' was made for ${samplerSteps} steps, but the schedule has ${count}; create it with numSteps = ${count}`,
    );
  }
  const { indices, weights } = sampler.sample(batchSize, input.noise);
  if (indices.length !== batchSize || weights.length !== batchSize) {
    throw new DiffusionError(
      'invalid-argument',
      `${objectiveName} objective: timestep sampler '${sampler.name}' returned ${indices.length} indices and ${weights.length} weights for a batch of ${batchSize}`,
    );
  }
  for (const index of indices) {
    if (index < 0 || index >= count) {
      throw new DiffusionError(
        'invalid-argument',
        `${objectiveName} objective: timestep sampler '${sampler.name}' gave index ${index}, but the schedule has ${count} steps; create the sampler with numSteps = ${count}`,
      );
    }
  }
  return { indices, weights, epsilon: input.noise.normal(x0.shape) };
}

/**
 * Diffuses x0 to x_t with the drawn noise and runs the model on it in training mode, feeding it the
 * ORIGINAL timesteps of the drawn schedule indices. Call inside tf.tidy.
 */
export function predictOnNoisyData(input: ObjectiveInput, draws: TrainingDraws): { epsilon: tf.Tensor; xt: tf.Tensor; output: ModelOutput } {
  const epsilon = tf.tensor(draws.epsilon, input.x0.shape, 'float32');
  // 1. x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps, eq. 4 of DDPM
  const xt = forwardDiffuse(input.schedule, input.x0, draws.indices, epsilon);
  const timesteps = tf.tensor1d(
    Float32Array.from(draws.indices, (index) => input.schedule.timesteps[index] as number),
    'float32',
  );
  const output = input.model.predict({ x: xt, timesteps, condition: input.condition, training: true });
  return { epsilon, xt, output };
}

/** mean(w_i L_i): the importance-weighted mean of per-sample losses (unbiased for the uniform mean). */
export function weightedMean(weights: Float64Array, perSample: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.mul(tf.tensor1d(Float32Array.from(weights), 'float32'), perSample));
}
