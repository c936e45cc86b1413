import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionModel, Guidance, ModelOutput } from '@tfjs-diffusion/core';
import { checkScale, definedTensors, requireClassLabels, requireNullClass } from './shared.js';

export interface ClassifierFreeGuidanceOptions {
  /**
   * The guidance weight w >= 0 of Ho & Salimans (2022): w = 0 is the plain conditional model,
   * larger w trades diversity for fidelity. (Libraries that write s = 1 + w, like diffusers'
   * `guidance_scale`, mean the same model at s = 1 + w.)
   */
  readonly scale: number;
}

/**
 * Classifier-free guidance (Ho & Salimans 2022, eq. 6): eps~ = (1 + w) eps(x, c) - w eps(x, null),
 * with the conditional and unconditional predictions from one batched network call.
 */
export function classifierFreeGuidance(options: ClassifierFreeGuidanceOptions): Guidance {
  const scale = checkScale(options?.scale, 'classifierFreeGuidance');
  return (model: DiffusionModel): DiffusionModel => {
    const conditioning = requireNullClass(model, 'classifierFreeGuidance');
    const nullClass = conditioning.nullClass;
    return {
      prediction: model.prediction,
      variance: model.variance,
      conditioning,
      predict(input): ModelOutput {
        const labels = requireClassLabels(input, 'classifierFreeGuidance');
        // 0. w = 0 is the conditional model itself: no doubled batch.
        if (scale === 0) return model.predict(input);
        return tf.tidy(() => {
          const batch = input.x.shape[0];
          // 1. One network call on [x; x] with labels [c; null] and timesteps [t; t].
          const both = model.predict({
            ...input,
            x: tf.concat([input.x, input.x], 0),
            timesteps: tf.concat([input.timesteps, input.timesteps], 0),
            condition: {
              ...input.condition,
              classLabels: tf.concat([labels, tf.fill([batch], nullClass, 'int32') as tf.Tensor1D], 0),
            },
          });
          const [conditional, unconditional] = tf.split(both.prediction, 2, 0) as [tf.Tensor, tf.Tensor];
          // 2. eps~ = (1 + w) eps_c - w eps_u (eq. 6 of Ho & Salimans). The same combination is
          //    applied to x0 and v predictions as they are: at fixed x_t and t each of eps, x0 and v is
          //    an affine function of any other, a x_t + b p (x0 = (x_t - sqrt(1 - aBar) eps) / sqrt(aBar),
          //    v = sqrt(aBar) eps - sqrt(1 - aBar) x0), and (1 + w) - w = 1, so
          //    (1 + w)(a x_t + b p_c) - w (a x_t + b p_u) = a x_t + b ((1 + w) p_c - w p_u):
          //    guiding in x0 or v space is guiding in eps space, and no alphaBar is needed here.
          const prediction = combine(conditional, unconditional, scale);
          // 3. Learned-range variance comes from the conditional branch (GLIDE, improved-diffusion).
          const varianceValues = both.varianceValues ? (tf.split(both.varianceValues, 2, 0)[0] as tf.Tensor) : undefined;
          // 4. A gradient set further in (classifier guidance applied before this wrapper) shifts eps
          //    linearly in every sampler, so it is combined like eps: (1 + w) g_c - w g_u. When it is the
          //    same for both halves this is g itself, i.e. a plain pass-through.
          let guidanceGradient: tf.Tensor | undefined;
          if (both.guidanceGradient) {
            const [gradientConditional, gradientUnconditional] = tf.split(both.guidanceGradient, 2, 0) as [tf.Tensor, tf.Tensor];
            guidanceGradient = combine(gradientConditional, gradientUnconditional, scale);
          }
          return definedTensors({ prediction, varianceValues, guidanceGradient }) as tf.TensorContainer;
        }) as unknown as ModelOutput;
      },
    };
  };
}

/** (1 + w) conditional - w unconditional. */
function combine(conditional: tf.Tensor, unconditional: tf.Tensor, scale: number): tf.Tensor {
  return tf.sub(tf.mul(conditional, 1 + scale), tf.mul(unconditional, scale));
}
