import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoiseSource } from '@tfjs-diffusion/core';
import { loadNativeKernels, registerTrainingKernels, selectBackend } from '@tfjs-diffusion/backends/node';
import { createUNet, type UNetModel } from '@tfjs-diffusion/networks';
import { sampleDdim } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Batch invariance (the server's promise: a request's samples are bit-identical alone or batched
 * with others): a U-Net forward pass and DDIM steps give each image exactly the same float32 bits
 * whether it runs alone or at any place in a larger batch, on cpu and wasm, with the native kernels
 * and without them. The net has every kind of layer and odd sizes (12x12 -> 6x6, attention at 6x6,
 * a learned variance: 2 output channels, products whose width is not a multiple of 16).
 */
const SIZE = 12;
const LABELS = [2, 0, 1];

function createNet(): UNetModel {
  const model = createUNet({
    imageSize: SIZE,
    inChannels: 1,
    modelChannels: 16,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [6],
    numHeads: 2,
    groupNormGroups: 4,
    numClasses: 3,
    variance: 'learned-range',
    seed: 'batch-invariance',
  });
  // ADM zero-initialises output layers; random weights everywhere so that every layer matters
  const source = createNoiseSource('batch-invariance-weights');
  for (const variable of model.parameters.values()) {
    tf.tidy(() => variable.assign(tf.mul(tf.tensor(source.normal(variable.shape), variable.shape), 0.3)));
  }
  return model;
}

/** Each row of a batch draws from its own seed, as the server's batch noise source does. */
function rowNoise(seeds: readonly string[]): NoiseSource {
  const sources = seeds.map((seed) => createNoiseSource(seed));
  const unsupported = (): never => {
    throw new Error('row noise draws only normal noise over the batch axis');
  };
  return {
    normal(shape) {
      const rest = shape.slice(1);
      const rowSize = rest.reduce((product, size) => product * size, 1);
      const values = new Float32Array((shape[0] as number) * rowSize);
      sources.forEach((source, row) => values.set(source.normal([1, ...rest]), row * rowSize));
      return values;
    },
    uniform: unsupported,
    integers: unsupported,
    getState: unsupported,
    setState: unsupported,
  };
}

function forward(model: UNetModel, x: Float32Array, rows: number, timesteps: number[], labels: number[]): Float32Array {
  return tf.tidy(() => {
    const prediction = model.predict({
      x: tf.tensor4d(x, [rows, SIZE, SIZE, 1]),
      timesteps: tf.tensor1d(timesteps),
      condition: { classLabels: tf.tensor1d(labels, 'int32') },
    }).prediction;
    return Float32Array.from(prediction.dataSync());
  });
}

async function sample(model: UNetModel, rows: readonly number[]): Promise<Float32Array> {
  const schedule = respaceSchedule(createSchedule({ kind: 'linear', timesteps: 1000 }), 'ddim3');
  const classLabels = tf.tensor1d(
    rows.map((row) => LABELS[row] as number),
    'int32',
  );
  try {
    const result = await sampleDdim({
      model,
      schedule,
      shape: [rows.length, SIZE, SIZE, 1],
      noise: rowNoise(rows.map((row) => `row-${row}`)),
      condition: { classLabels },
      eta: 1,
    });
    const values = Float32Array.from(await result.data());
    result.dispose();
    return values;
  } finally {
    classLabels.dispose();
  }
}

/** Indices where two arrays differ in any bit (NaN never equals). */
function differingValues(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const aBits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bBits = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let count = 0;
  for (let index = 0; index < a.length; index += 1) if (aBits[index] !== bBits[index]) count += 1;
  return count;
}

const status = await loadNativeKernels();
const variants = [
  { native: false, skip: false },
  { native: true, skip: !status.available && !process.env['CI'] },
];

for (const backend of ['cpu', 'wasm'] as const) {
  for (const { native, skip } of variants) {
    (skip ? describe.skip : describe)(`batch invariance [${backend}, ${native ? 'native kernels' : 'no native kernels'}]`, () => {
      let model: UNetModel;
      beforeAll(async () => {
        await selectBackend(backend);
        registerTrainingKernels(backend, { native });
        model = createNet();
      });
      afterAll(() => {
        model.dispose();
        registerTrainingKernels(backend);
      });

      it('a forward pass gives each image the same bits alone and at every place in a batch', () => {
        const pixels = SIZE * SIZE;
        const x = createNoiseSource('batch-invariance-x').normal([3, SIZE, SIZE, 1]);
        const timesteps = [17, 503, 999];
        const batched = forward(model, x, 3, timesteps, LABELS);
        const outputPerImage = batched.length / 3;
        expect(outputPerImage).toBe(pixels);
        for (let row = 0; row < 3; row += 1) {
          const alone = forward(model, x.slice(row * pixels, (row + 1) * pixels), 1, [timesteps[row] as number], [LABELS[row] as number]);
          expect(differingValues(alone, batched.slice(row * outputPerImage, (row + 1) * outputPerImage))).toBe(0);
        }
        // and in a batch of 5 where row 0 sits in the middle, between other images
        const five = new Float32Array(5 * pixels);
        five.set(x.slice(pixels, 3 * pixels), 0);
        five.set(x.slice(0, pixels), 2 * pixels);
        five.set(x.slice(0, 2 * pixels), 3 * pixels);
        const wider = forward(model, five, 5, [503, 999, 17, 17, 503], [0, 1, 2, 2, 0]);
        expect(differingValues(batched.slice(0, outputPerImage), wider.slice(2 * outputPerImage, 3 * outputPerImage))).toBe(0);
        expect(Math.max(...Array.from(batched, Math.abs))).toBeGreaterThan(0.1);
      });

      it('three DDIM steps (eta 1) give each image the same bits alone and batched', async () => {
        const pixels = SIZE * SIZE;
        const batched = await sample(model, [0, 1, 2]);
        for (const row of [0, 2]) {
          const alone = await sample(model, [row]);
          expect(differingValues(alone, batched.slice(row * pixels, (row + 1) * pixels))).toBe(0);
        }
        const reordered = await sample(model, [2, 1]);
        expect(differingValues(reordered.slice(pixels), batched.slice(pixels, 2 * pixels))).toBe(0);
      });
    });
  }
}
