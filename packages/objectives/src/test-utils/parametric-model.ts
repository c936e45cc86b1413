import '@tfjs-diffusion/core/register-gradients';
import * as tf from '@tensorflow/tfjs-core';
import type { DiffusionModel, PredictionKind, VarianceKind } from '@tfjs-diffusion/core';

/** A tiny trainable model: prediction = scale x + shift, and (learned-range) v = tanh(varianceLogit). */
export function createParametricModel(prediction: PredictionKind = 'epsilon', variance: VarianceKind = 'learned-range') {
  const scale = tf.variable(tf.scalar(0.3), true, `scale-${Math.random()}`);
  const shift = tf.variable(tf.scalar(0.1), true, `shift-${Math.random()}`);
  const varianceLogit = tf.variable(tf.scalar(0.2), true, `varianceLogit-${Math.random()}`);
  const model: DiffusionModel = {
    prediction,
    variance,
    conditioning: null,
    predict: ({ x }) => {
      const output = tf.add(tf.mul(scale, x), shift);
      if (variance !== 'learned-range') return { prediction: output };
      return { prediction: output, varianceValues: tf.mul(tf.tanh(varianceLogit), tf.onesLike(x)) };
    },
  };
  return { model, scale, shift, varianceLogit, dispose: () => tf.dispose([scale, shift, varianceLogit]) };
}
