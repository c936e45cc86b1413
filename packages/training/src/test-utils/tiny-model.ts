import * as tf from '@tensorflow/tfjs-core';
import { perSampleValues, type Objective, type TrainableDiffusionModel } from '@tfjs-diffusion/core';

/** A tiny epsilon model for trainer tests: eps = tanh([x, t/T] W1) W2, with optional class rows. */
export function createTinyModel(seed: number, options: { poison?: () => boolean; numClasses?: number } = {}): TrainableDiffusionModel {
  const random = (shape: number[], scale: number, offset: number) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed * 13.7 + i * 1.91 + offset) * scale),
      shape,
    );
  const parameters = new Map<string, tf.Variable>([
    ['w1', tf.variable(random([3, 16], 0.5, 0))],
    ['w2', tf.variable(random([16, 2], 0.1, 7))],
  ]);
  const numClasses = options.numClasses;
  if (numClasses) parameters.set('classes', tf.variable(random([numClasses + 1, 16], 0.1, 3)));
  return {
    prediction: 'epsilon',
    variance: 'fixed-small',
    conditioning: numClasses ? { kind: 'class', numClasses, nullClass: numClasses } : null,
    parameters,
    config: { type: 'tiny' },
    predict({ x, timesteps, condition }) {
      return tf.tidy(() => {
        const input = tf.concat([x, tf.reshape(tf.div(timesteps, 100), [-1, 1])], 1);
        let hidden = tf.matMul(input, parameters.get('w1') as tf.Variable);
        if (numClasses && condition?.classLabels) hidden = tf.add(hidden, tf.gather(parameters.get('classes') as tf.Variable, condition.classLabels));
        const output = tf.matMul(tf.tanh(hidden), parameters.get('w2') as tf.Variable);
        return { prediction: options.poison?.() ? tf.mul(output, Number.NaN) : output };
      });
    },
    dispose() {
      for (const variable of parameters.values()) variable.dispose();
    },
  };
}

/** L_simple with epsilon targets, written out for the trainer's own tests. */
export const tinySimpleObjective: Objective = {
  name: 'tiny-simple',
  compute({ model, schedule, x0, condition, noise }) {
    const batch = x0.shape[0] as number;
    const indices = noise.integers(batch, schedule.timesteps.length);
    const epsilon = tf.tensor(noise.normal(x0.shape), x0.shape);
    const alphaBar = perSampleValues(schedule.alphaBars, indices, x0.rank);
    const xt = tf.add(tf.mul(tf.sqrt(alphaBar), x0), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), epsilon));
    const timesteps = tf.tensor1d(Array.from(indices, (index) => schedule.timesteps[index] as number));
    const { prediction } = model.predict({ x: xt, timesteps, condition, training: true });
    const perSampleLoss = tf.mean(tf.square(tf.sub(prediction, epsilon)), 1) as tf.Tensor1D;
    const loss = tf.mean(perSampleLoss) as tf.Scalar;
    return { loss, perSampleLoss, indices, terms: { mse: loss } };
  },
};
