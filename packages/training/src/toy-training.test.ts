import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runToyDiffusion, type ToyRunOptions } from './toy-training.js';

const TOY_TRAIN_STEPS = 6000;
const TOY_LEARNING_RATE = 3e-3;

// End to end on 2-D data: the MLP trained with L_simple on 8 Gaussians, sampled with DDIM.
describe('runToyDiffusion (wasm)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('is seeded, leaks no tensors, reports the mean of the last losses and no mode statistics for two-moons', async () => {
    const options: ToyRunOptions = {
      dataset: 'two-moons',
      trainSteps: 12,
      batchSize: 32,
      learningRate: 1e-3,
      sampler: 'ddpm',
      steps: 10,
      eta: 0,
      samples: 50,
      timesteps: 100,
      seed: 4,
    };
    const tensorsBefore = tf.memory().numTensors;
    const first = await runToyDiffusion(options);
    first.model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect([first.samples.length, first.data.length, first.dataLabels.length, first.lossHistory.length]).toEqual([100, 100, 50, 12]);
    expect(first.finalLoss).toBeCloseTo(first.lossHistory.reduce((a, b) => a + b, 0) / 12, 10);
    expect(first.statistics).toBeUndefined();
    expect(first.schedule.timesteps).toHaveLength(100);
    const second = await runToyDiffusion(options);
    second.model.dispose();
    expect(Array.from(second.samples)).toEqual(Array.from(first.samples));
  });

  it('puts at least 90 % of samples within 3 std of a mode and covers all 8 modes', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const run = await runToyDiffusion({
      dataset: 'eight-gaussians',
      trainSteps: TOY_TRAIN_STEPS,
      batchSize: 256,
      learningRate: TOY_LEARNING_RATE,
      sampler: 'ddim',
      steps: 50,
      eta: 0,
      samples: 2000,
      timesteps: 1000,
      seed: 0,
    });
    run.model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const { withinFraction, perModeFraction } = run.statistics!;
    expect(withinFraction).toBeGreaterThanOrEqual(0.9);
    // Every mode holds a real share of the samples (uniform would be 1/8 = 0.125).
    expect(perModeFraction).toHaveLength(8);
    for (const share of perModeFraction) expect(share).toBeGreaterThan(0.03);
  }, 600_000);
});
