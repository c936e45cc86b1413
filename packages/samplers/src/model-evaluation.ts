import * as tf from '@tensorflow/tfjs-core';
import { assertShape, toX0AndEpsilon, type SamplerOptions } from '@tfjs-diffusion/core';

/**
 * How a sampler takes a classifier-guidance gradient g = s grad_x log p(y | x_t):
 * 'epsilon-shift' folds it into (x0, eps) as ADM Algorithm 2 does (deterministic and ODE samplers);
 * 'separate' hands g back untouched for a mean shift Sigma g (ADM Algorithm 1, ancestral DDPM).
 */
export type GuidanceHandling = 'epsilon-shift' | 'separate';

/** The model's output at one noise level, in the two forms samplers use. */
export interface Evaluation {
  /** Predicted x0 (guided with 'epsilon-shift'; clipped to [-1, 1] with `clipDenoised`, after the guidance). */
  readonly x0: tf.Tensor;
  /** Predicted eps, consistent with x0: x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps. */
  readonly epsilon: tf.Tensor;
  /** The learned-range values v, when the model returns them. */
  readonly varianceValues?: tf.Tensor;
  /** The guidance gradient g, only with 'separate'. */
  readonly guidanceGradient?: tf.Tensor;
}

/**
 * Evaluates the model at x_t (variance-preserving scaling) for a whole batch at one noise level
 * alphaBar and original timestep t (fractional t allowed), and converts its output to (x0, eps)
 * with core's `toX0AndEpsilon` (DDPM eq. 4, 15; v of Salimans & Ho 2022). Call inside tf.tidy.
 */
export function evaluateModel(options: SamplerOptions, x: tf.Tensor, timestep: number, alphaBar: number, guidance: GuidanceHandling): Evaluation {
  const { model, condition, clipDenoised } = options;
  const batch = x.shape[0] as number;
  const sqrtAlphaBar = Math.sqrt(alphaBar);
  const sqrtOneMinusAlphaBar = Math.sqrt(1 - alphaBar);
  // 1. the network is fed the ORIGINAL timestep, float32 [batch]
  const output = model.predict({ x, timesteps: tf.fill([batch], timestep, 'float32') as tf.Tensor1D, condition });
  assertShape(output.prediction.shape, x.shape, `model prediction (${model.prediction})`);
  if (output.varianceValues) assertShape(output.varianceValues.shape, x.shape, 'model varianceValues');
  if (output.guidanceGradient) assertShape(output.guidanceGradient.shape, x.shape, 'model guidanceGradient');

  // 2. (x0, eps) from eps, x0 or v, eq. 15 of DDPM / section 4 of Salimans & Ho
  let { x0, epsilon } = toX0AndEpsilon(model.prediction, output.prediction, x, alphaBar);
  if (clipDenoised) {
    // 3. clip x0 to the data range, then eps = (x_t - sqrt(aBar) x0) / sqrt(1 - aBar) so the pair stays consistent
    x0 = tf.clipByValue(x0, -1, 1);
    epsilon = tf.div(tf.sub(x, tf.mul(sqrtAlphaBar, x0)), sqrtOneMinusAlphaBar);
  }
  const gradient = output.guidanceGradient;
  if (gradient && guidance === 'epsilon-shift') {
    // 4. eps^ = eps - sqrt(1 - aBar) g, ADM Algorithm 2 (the score of p(x_t | y) in eps form)
    epsilon = tf.sub(epsilon, tf.mul(sqrtOneMinusAlphaBar, gradient));
    // 5. x0 from the guided eps, eq. 15 of DDPM: x0^ = x0 + (1 - aBar) / sqrt(aBar) g
    x0 = tf.div(tf.sub(x, tf.mul(sqrtOneMinusAlphaBar, epsilon)), sqrtAlphaBar);
    if (clipDenoised) {
      // 6. the guided x0 is Tweedie's E[x0 | x_t, y] = x0 + (1 - aBar) grad log p(y | x_t) / sqrt(aBar),
      //    a mean of data and so inside the data range; project it there and keep eps consistent.
      //    ADM's condition_score leaves it unclipped, which its linear schedule (aBar_T ~ 4e-5)
      //    tolerates; on the cosine schedule (aBar_T ~ 2.4e-9) a real classifier's non-vanishing
      //    gradient is amplified ~2e4 times at t = T and DDIM's samples blow up (issue 12).
      x0 = tf.clipByValue(x0, -1, 1);
      epsilon = tf.div(tf.sub(x, tf.mul(sqrtAlphaBar, x0)), sqrtOneMinusAlphaBar);
    }
  }
  return {
    x0,
    epsilon,
    ...(output.varianceValues ? { varianceValues: output.varianceValues } : {}),
    ...(gradient && guidance === 'separate' ? { guidanceGradient: gradient } : {}),
  };
}
