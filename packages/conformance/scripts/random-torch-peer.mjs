// The measurement scripts' network: the `torch-peer` U-Net preset (the benchmark's reference U-Net)
// with random weights everywhere (ADM zero-initialises its output layers), and one seeded batch of
// inputs for it: x ~ N(0, 1), timesteps spread over [0, 1000), labels 0..10 (10 is the null label).
import * as tf from '@tensorflow/tfjs-core';
import { createUNet, unetPresets } from '@tfjs-diffusion/networks';

/** The random-weight torch-peer U-Net, `predict()` (its prediction for a batch of `batch` seeded inputs; call it in tf.tidy) and `dispose()` (model and inputs). */
export function randomTorchPeer(batch) {
  const model = createUNet({ ...unetPresets['torch-peer'], seed: 1 });
  for (const variable of model.parameters.values()) {
    tf.tidy(() => variable.assign(tf.mul(tf.randomNormal(variable.shape, 0, 1, 'float32', 7), 0.2)));
  }
  const x = tf.randomNormal([batch, 32, 32, 1], 0, 1, 'float32', 3);
  const timesteps = tf.tensor1d(Array.from({ length: batch }, (_, index) => (index * 37) % 1000));
  const classLabels = tf.tensor1d(
    Array.from({ length: batch }, (_, index) => index % 11),
    'int32',
  );
  return {
    model,
    predict: () => model.predict({ x, timesteps, condition: { classLabels } }).prediction,
    dispose: () => {
      model.dispose();
      tf.dispose([x, timesteps, classLabels]);
    },
  };
}
