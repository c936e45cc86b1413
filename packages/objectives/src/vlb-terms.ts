import * as tf from '@tensorflow/tfjs-core';
import { type DiffusionModel, DiffusionError, type ModelOutput, type NoiseSchedule, assertShape } from '@tfjs-diffusion/core';
import { discretizedGaussianLogLikelihood } from './discretized-gaussian.js';
import { meanOverDataDimensions } from './mean-over-data-dimensions.js';
import { normalKl } from './normal-kl.js';
import { posteriorMeanAndVariance } from './posterior.js';
import { reverseMeanAndLogVariance } from './reverse-process.js';

export interface VlbTermsInput {
  /** Only the meaning of the output is read: `prediction` and `variance`. */
  readonly model: Pick<DiffusionModel, 'prediction' | 'variance'>;
  readonly schedule: NoiseSchedule;
  /** Clean data in [-1, 1], [batch, ...dataShape] (the decoder scores it on 256 bins). */
  readonly x0: tf.Tensor;
  /** x_t drawn from q(x_t | x0) at `indices`. */
  readonly xt: tf.Tensor;
  /** Schedule index of each sample. */
  readonly indices: ArrayLike<number>;
  /** The model's output at (x_t, t); pass a stop-gradient copy to train only part of it. */
  readonly output: ModelOutput;
  /** Clip the predicted x0 to [-1, 1] (default false, as in improved-diffusion training). */
  readonly clipDenoised?: boolean;
}

export type VlbTermsResult = {
  /** The VLB term of each sample in bits/dim: `decoderBits` where index = 0, `klBits` elsewhere. [batch] */
  readonly bits: tf.Tensor1D;
  /** KL(q(x_{t-1} | x_t, x0) || p(x_{t-1} | x_t)) in bits/dim, for every sample. [batch] */
  readonly klBits: tf.Tensor1D;
  /** -log p(x0 | x_1) under the discretized Gaussian in bits/dim, for every sample. [batch] */
  readonly decoderBits: tf.Tensor1D;
  /** The model's x0 (clipped when asked), x's shape. */
  readonly predictedX0: tf.Tensor;
  /** Mean of p(x_{t-1} | x_t), x's shape. */
  readonly mean: tf.Tensor;
  /** log variance of p(x_{t-1} | x_t), broadcastable against x. */
  readonly logVariance: tf.Tensor;
};

/**
 * The per-timestep terms of the variational bound (DDPM, Ho et al. 2020, eq. 5; Improved DDPM
 * section 2.1; improved-diffusion `_vb_terms_bpd`), in bits/dim: L_{t-1} = KL(q || p) for index > 0
 * and L_0 = -log p(x0 | x_1) on 256 bins at index 0. Synchronous and differentiable.
 */
export function vlbTerms(input: VlbTermsInput): VlbTermsResult {
  const { schedule, x0, xt, indices } = input;
  assertShape(xt.shape, x0.shape, 'x_t');
  if (indices.length !== x0.shape[0]) {
    throw new DiffusionError('invalid-argument', `vlbTerms: ${indices.length} indices for a batch of ${x0.shape[0]}`);
  }
  const count = schedule.timesteps.length;
  for (let sample = 0; sample < indices.length; sample += 1) {
    const index = indices[sample] as number;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new DiffusionError('invalid-argument', `vlbTerms: schedule index ${index} is outside 0..${count - 1}`);
    }
  }
  return tf.tidy(() => {
    // 1. q(x_{t-1} | x_t, x0), eqs. 6-7 of DDPM
    const posterior = posteriorMeanAndVariance(schedule, x0, xt, indices);
    // 2. p(x_{t-1} | x_t) from the network
    const reverse = reverseMeanAndLogVariance({
      model: input.model,
      schedule,
      xt,
      indices,
      output: input.output,
      clipDenoised: input.clipDenoised ?? false,
    });
    // 3. L_{t-1} = KL(q || p), averaged over data dimensions, nats -> bits
    const kl = normalKl(posterior.mean, posterior.logVarianceClipped, reverse.mean, reverse.logVariance);
    const klBits = tf.div(meanOverDataDimensions(kl), Math.LN2) as tf.Tensor1D;
    // 4. L_0 = -log p(x0 | x_1), the discretized Gaussian decoder (eq. 13 of DDPM), log sigma = log Sigma / 2
    const logLikelihood = discretizedGaussianLogLikelihood(x0, reverse.mean, tf.mul(0.5, reverse.logVariance));
    const decoderBits = tf.div(tf.neg(meanOverDataDimensions(logLikelihood)), Math.LN2) as tf.Tensor1D;
    // 5. the decoder at index 0, the KL elsewhere
    const isFirst = tf.tensor1d(
      Array.from(indices, (index) => index === 0),
      'bool',
    );
    const bits = tf.where(isFirst, decoderBits, klBits) as tf.Tensor1D;
    return {
      bits,
      klBits,
      decoderBits,
      predictedX0: reverse.predictedX0,
      mean: reverse.mean,
      logVariance: reverse.logVariance,
    };
  });
}
