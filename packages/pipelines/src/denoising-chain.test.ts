import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { chainSteps, sampleDenoisingChain } from './denoising-chain.js';
import { loadPipeline } from './load-pipeline.js';
import { tinyModelFile } from './test-utils/tiny-model.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('chainSteps', () => {
  it('spreads the columns evenly over the steps, the last step included', () => {
    expect(chainSteps(4, 3)).toEqual([0, 2, 3]);
    expect(chainSteps(50, 5)).toEqual([0, 12, 25, 37, 49]);
    expect(chainSteps(3, 10)).toEqual([0, 1, 2]);
    expect(chainSteps(20, 1)).toEqual([19]);
  });
});

describe('sampleDenoisingChain', () => {
  it('records x_t and predicted x0 per label at the shown steps; the last x_t is the generated image', async () => {
    const pipeline = await loadPipeline(await tinyModelFile());
    try {
      const options = { labels: [0, 2], sampler: 'ddpm', steps: 4, seed: 9 } as const;
      const chain = await sampleDenoisingChain(pipeline, options, 3);
      expect(chain.steps).toEqual([0, 2, 3]);
      // the noisiest step first: the respaced timesteps in reverse, at steps 0, 2 and 3
      const timesteps = [...respaceSchedule(pipeline.schedule, 'linspace:4').timesteps].reverse();
      expect(chain.timesteps).toEqual([0, 2, 3].map((step) => timesteps[step]));
      const imageSize = 8 * 8;
      expect(chain.images.length).toBe(2 * 2 * 3 * imageSize);
      const cell = (row: number, column: number) =>
        Array.from(chain.images.subarray((row * 3 + column) * imageSize, (row * 3 + column + 1) * imageSize));
      const { images } = await pipeline.generate({ ...options, batchSize: 2 });
      const final = Array.from(await images.data());
      images.dispose();
      // rows: label 0's x_t, label 0's predicted x0, label 2's x_t, label 2's predicted x0
      expect(cell(0, 2)).toEqual(final.slice(0, imageSize));
      expect(cell(2, 2)).toEqual(final.slice(imageSize));
      expect(cell(0, 0)).not.toEqual(cell(1, 0));
      expect(cell(0, 0)).not.toEqual(cell(2, 0));
      expect(chain.images.every((value) => value >= -1 && value <= 1)).toBe(true);
      await expect(sampleDenoisingChain(pipeline, options, 0)).rejects.toThrow(/columns must be a positive integer, got 0/);
    } finally {
      pipeline.dispose();
    }
  });
});
