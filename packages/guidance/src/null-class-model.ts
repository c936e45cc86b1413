import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionModel } from '@tfjs-diffusion/core';
import { requireNullClass } from './shared.js';

/**
 * The unconditional branch of a class-conditional model trained with label dropout (Ho & Salimans
 * 2022): every call sees the model's `nullClass` instead of the requested labels. Wrapped inside
 * classifier guidance, the classifier still steers to the requested labels while the denoiser
 * draws from p(x) -- the setting of ADM's classifier-guided unconditional models
 * (Dhariwal & Nichol 2021, section 4).
 *
 * @example
 * const guided = classifierGuidance({ classifier, scale: 4 })(nullClassModel(model));
 */
export function nullClassModel(model: DiffusionModel): DiffusionModel {
  const conditioning = requireNullClass(model, 'nullClassModel');
  const nullClass = conditioning.nullClass;
  return {
    prediction: model.prediction,
    variance: model.variance,
    conditioning,
    predict(input) {
      const batch = input.x.shape[0] as number;
      const labels = tf.fill([batch], nullClass, 'int32') as tf.Tensor1D;
      try {
        return model.predict({ ...input, condition: { ...input.condition, classLabels: labels } });
      } finally {
        labels.dispose();
      }
    },
  };
}
