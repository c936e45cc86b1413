import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { modeStatistics, runToy } from './train-toy.js';

// End to end on 2-D data: the MLP trained with L_simple on 8 Gaussians, sampled with DDIM.
describe('toy end to end (eight-gaussians, wasm)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('puts at least 90 % of samples within 3 std of a mode and covers all 8 modes', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const run = await runToy({
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
    const { withinFraction, perModeFraction } = modeStatistics(run.samples, run.modes!, run.modeStd!);
    run.model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(withinFraction).toBeGreaterThanOrEqual(0.9);
    // Every mode holds a real share of the samples (uniform would be 1/8 = 0.125).
    for (const share of perModeFraction) expect(share).toBeGreaterThan(0.03);
  }, 600_000);
});

const TOY_TRAIN_STEPS = 6000;
const TOY_LEARNING_RATE = 3e-3;
