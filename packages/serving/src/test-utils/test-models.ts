import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, type DiffusionModel, type NoiseSchedule } from '@tfjs-diffusion/core';
import { createUNet, type UNetModel } from '@tfjs-diffusion/networks';
import { createSchedule } from '@tfjs-diffusion/schedules';

/** Selects the tfjs cpu backend for a test file. */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** A short cosine schedule (T = 100) for the test models. */
export function testSchedule(): NoiseSchedule {
  return createSchedule({ kind: 'cosine', timesteps: 100 });
}

/** Test helpers (not built or published; tests import them by relative path). */

/** A fake epsilon model on 4x4x1 samples, cheap and row-independent: eps = 0.5 x + 0.05 label. */
export function createFakeModel(): DiffusionModel {
  return {
    prediction: 'epsilon',
    variance: 'fixed-small',
    conditioning: { kind: 'class', numClasses: 10, nullClass: 10 },
    predict(input) {
      const labels = input.condition?.classLabels;
      return tf.tidy(() => {
        const shift = labels ? tf.reshape(tf.mul(tf.cast(labels, 'float32'), 0.05), [-1, 1, 1, 1]) : tf.scalar(0);
        return { prediction: tf.add(tf.mul(input.x, 0.5), shift) };
      });
    },
  };
}

/** A class-conditional U-Net on 8x8x1 images with random weights (its zero-initialised output conv too). */
export function createTinyUNet(): UNetModel {
  const model = createUNet({
    type: 'unet',
    imageSize: 8,
    inChannels: 1,
    modelChannels: 8,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [4],
    numHeads: 2,
    groupNormGroups: 4,
    numClasses: 10,
    seed: 3,
  });
  let index = 0;
  for (const variable of model.parameters.values()) {
    const values = createNoiseSource(`tiny:${index}`).normal(variable.shape);
    for (let position = 0; position < values.length; position += 1) values[position] = (values[position] as number) * 0.2;
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
    index += 1;
  }
  return model;
}

/** A promise the test opens by hand: hold a batch between steps. */
export function createGate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait: () => opened, open };
}

/** Resolves once `condition` holds (polled every few ms), or rejects after `timeoutMilliseconds`. */
export async function waitFor(condition: () => boolean, timeoutMilliseconds = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMilliseconds) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
