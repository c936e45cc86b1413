import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type DiffusionModel } from '@tfjs-diffusion/core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetBitsPerDim } from './dataset-bits-per-dim.js';
import { evaluateBitsPerDim } from './evaluate-bits-per-dim.js';
import { gaussianExactModelBound } from './test-utils/gaussian-bound.js';
import { createGaussianOracleModel } from './test-utils/gaussian-oracle-model.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'cosine', timesteps: 20 });
const dataShape = [4, 4, 1] as const;
const count = 5;

/** 5 images of 8-bit values scaled to [-1, 1]. */
const images = Float32Array.from({ length: count * 16 }, (_, index) => ((index * 37) % 256) / 127.5 - 1);
const labels = [0, 1, 2, 0, 1];

/** A class-conditional epsilon model whose prediction depends on x_t and the label; records the labels of each call. */
function labelledModel(seen: number[][]): DiffusionModel {
  return {
    prediction: 'epsilon',
    variance: 'fixed-small',
    conditioning: { kind: 'class', numClasses: 3, nullClass: null },
    predict: ({ x, condition }) => {
      const classLabels = condition?.classLabels as tf.Tensor1D;
      seen.push(Array.from(classLabels.dataSync()));
      const shift = tf.reshape(tf.mul(tf.cast(classLabels, 'float32'), 0.1), [-1, 1, 1, 1]);
      return { prediction: tf.add(tf.mul(x, 0.5), shift) };
    },
  };
}

describe('datasetBitsPerDim', () => {
  it('averages evaluateBitsPerDim over batches weighted by their images, each batch with its own labels', async () => {
    const seen: number[][] = [];
    const progress: number[] = [];
    const before = tf.memory().numTensors;
    const result = await datasetBitsPerDim({
      model: labelledModel(seen),
      schedule,
      images,
      dataShape,
      labels,
      batchSize: 2,
      noise: createNoiseSource('nll'),
      onBatch: (done, total) => {
        progress.push(done);
        expect(total).toBe(count);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual([2, 4, 5]);
    // 20 steps per batch, labels [0, 1], [2, 0], [1]
    expect(seen.filter((_, index) => index % 20 === 0)).toEqual([[0, 1], [2, 0], [1]]);

    // the same batches scored one by one with the same noise stream
    const noise = createNoiseSource('nll');
    const model = labelledModel([]);
    const expected = { prior: 0, decoder: 0, klTotal: 0, perImage: [] as number[] };
    for (const [start, end] of [
      [0, 2],
      [2, 4],
      [4, 5],
    ] as const) {
      const x0 = tf.tensor4d(images.slice(start * 16, end * 16), [end - start, ...dataShape]);
      const classLabels = tf.tensor1d(labels.slice(start, end), 'int32');
      const batch = await evaluateBitsPerDim({ model, schedule, x0, noise, condition: { classLabels } });
      x0.dispose();
      classLabels.dispose();
      expected.prior += (batch.prior * (end - start)) / count;
      expected.decoder += (batch.decoder * (end - start)) / count;
      expected.klTotal += (batch.klTotal * (end - start)) / count;
      expected.perImage.push(...batch.perSample);
    }
    expect(Array.from(result.perImage)).toEqual(expected.perImage);
    expect(result.prior).toBeCloseTo(expected.prior, 10);
    expect(result.decoder).toBeCloseTo(expected.decoder, 10);
    expect(result.klTotal).toBeCloseTo(expected.klTotal, 10);
    expect(result.bitsPerDim).toBeCloseTo(expected.perImage.reduce((a, b) => a + b, 0) / count, 10);
    expect(result.bitsPerDim).toBeCloseTo(result.prior + result.decoder + result.klTotal, 8);
    expect(result.bitsPerDim).toBeGreaterThan(0);
  });

  it('is one evaluateBitsPerDim call when the batch holds every image; the prior term does not depend on the batch size', async () => {
    const model = labelledModel([]);
    const whole = await datasetBitsPerDim({ model, schedule, images, dataShape, labels, batchSize: 8, noise: createNoiseSource(3) });
    const x0 = tf.tensor4d(images, [count, ...dataShape]);
    const classLabels = tf.tensor1d(labels, 'int32');
    const reference = await evaluateBitsPerDim({ model, schedule, x0, noise: createNoiseSource(3), condition: { classLabels } });
    x0.dispose();
    classLabels.dispose();
    expect(whole.bitsPerDim).toBeCloseTo(reference.bitsPerDim, 10);
    expect(Array.from(whole.perImage)).toEqual(Array.from(reference.perSample));
    const split = await datasetBitsPerDim({ model, schedule, images, dataShape, labels, batchSize: 1, noise: createNoiseSource(3) });
    // L_T = KL(q(x_T | x0) || N(0, I)) draws no noise
    expect(split.prior).toBeCloseTo(whole.prior, 12);
    expect(split.bitsPerDim).not.toBe(whole.bitsPerDim);
    // the first 3 images only
    const first = await datasetBitsPerDim({ model, schedule, images, dataShape, labels, count: 3, batchSize: 1, noise: createNoiseSource(3) });
    expect(Array.from(first.perImage)).toEqual(Array.from(split.perImage.subarray(0, 3)));
  });

  it('matches the closed-form bound of the exact Gaussian denoiser over a dataset scored in batches (3 %)', async () => {
    // 16 images of 32 values of N(0.1, 0.25^2) rounded to the 256 bin centres of [-1, 1], like 8-bit data
    const [dataMean, dataStd] = [0.1, 0.25];
    const fullSchedule = createSchedule({ kind: 'linear', timesteps: 1000 });
    const source = createNoiseSource('dataset-bits-per-dim-data');
    const data = Float32Array.from(source.normal([16 * 32]), (value) => {
      const clipped = Math.min(1, Math.max(-1, dataMean + dataStd * value));
      return Math.round((clipped + 1) * 127.5) / 127.5 - 1;
    });
    const model = createGaussianOracleModel({ schedule: fullSchedule, dataMean, dataStd, prediction: 'epsilon' });
    const result = await datasetBitsPerDim({
      model,
      schedule: fullSchedule,
      images: data,
      dataShape: [32, 1, 1],
      batchSize: 5,
      noise: createNoiseSource(1),
      clipDenoised: false,
    });
    const reference = gaussianExactModelBound(fullSchedule, data, dataMean, dataStd);
    expect(Math.abs(result.bitsPerDim / reference.total - 1)).toBeLessThan(0.03);
    expect(Math.abs(result.klTotal / reference.kl - 1)).toBeLessThan(0.03);
    expect(result.prior).toBeCloseTo(reference.prior, 7);
  });

  it('names what is wrong with the count, the batch size or the labels', async () => {
    const model = labelledModel([]);
    const noise = createNoiseSource(0);
    await expect(datasetBitsPerDim({ model, schedule, images, dataShape, count: 6, noise })).rejects.toThrow(/count must be an integer in \[1, 5\]/);
    await expect(datasetBitsPerDim({ model, schedule, images, dataShape, batchSize: 0, noise })).rejects.toThrow(
      /batchSize must be a positive integer/,
    );
    await expect(datasetBitsPerDim({ model, schedule, images, dataShape, labels: [0, 1], noise })).rejects.toThrow(/2 labels for 5 images/);
  });
});
