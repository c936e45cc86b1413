import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters } from './count-parameters.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';
import { randomTensor, randomizeParameters } from './test-utils/gradient-check.js';
import { createUNet } from './unet.js';
import type { UNetConfig } from './unet-config.js';
import { unetPresets } from './unet-presets.js';

beforeAll(useCpuBackend);

/** 8x8x1 images, levels of 8 and 16 channels, attention at 4x4: fast on the cpu backend. */
const tiny: UNetConfig = {
  type: 'unet',
  imageSize: 8,
  inChannels: 1,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  attentionResolutions: [4],
  numHeads: 2,
  groupNormGroups: 4,
  seed: 3,
};

function inputs(batch: number, labels?: number[]): { x: tf.Tensor; timesteps: tf.Tensor1D; condition?: { classLabels: tf.Tensor1D } } {
  return {
    x: randomTensor([batch, 8, 8, 1], `x${batch}`),
    timesteps: tf.tensor1d(Array.from({ length: batch }, (_, index) => 100 * index + 7)),
    ...(labels ? { condition: { classLabels: tf.tensor1d(labels, 'int32') } } : {}),
  };
}

describe('createUNet', () => {
  it('predicts the shape of x, zero at initialisation (zero-initialised output conv)', () => {
    const model = createUNet(tiny);
    const input = inputs(2);
    const output = tf.tidy(() => model.predict(input).prediction);
    expect(output.shape).toEqual([2, 8, 8, 1]);
    expect(Array.from(output.dataSync()).every((value) => value === 0)).toBe(true);
    expect(model.prediction).toBe('epsilon');
    expect(model.variance).toBe('fixed-large');
    expect(model.conditioning).toBeNull();
    tf.dispose([output, input.x, input.timesteps]);
    model.dispose();
  });

  it('splits a learned-range output into prediction and varianceValues', () => {
    const model = createUNet({ ...tiny, variance: 'learned-range', prediction: 'v' });
    expect(model.parameters.get('out.2.weight')?.shape).toEqual([3, 3, 8, 2]);
    randomizeParameters(model.parameters, 'learned', 0.2);
    const input = inputs(2);
    const [prediction, varianceValues] = tf.tidy(() => {
      const output = model.predict(input);
      return [output.prediction, output.varianceValues as tf.Tensor];
    });
    expect(prediction.shape).toEqual([2, 8, 8, 1]);
    expect(varianceValues.shape).toEqual([2, 8, 8, 1]);
    expect(Array.from(prediction.dataSync())).not.toEqual(Array.from(varianceValues.dataSync()));
    tf.dispose([prediction, varianceValues, input.x, input.timesteps]);
    model.dispose();
  });

  it('conditions on class labels with a null class row', () => {
    const model = createUNet({ ...tiny, numClasses: 3 });
    expect(model.conditioning).toEqual({ kind: 'class', numClasses: 3, nullClass: 3 });
    expect(model.parameters.get('label_emb.weight')?.shape).toEqual([4, 32]);
    randomizeParameters(model.parameters, 'conditional', 0.2);
    const run = (labels: number[]): number[] => {
      const input = inputs(2, labels);
      const values = tf.tidy(() => Array.from(model.predict(input).prediction.dataSync()));
      tf.dispose([input.x, input.timesteps, input.condition?.classLabels as tf.Tensor]);
      return values;
    };
    const nullLabels = run([3, 3]);
    expect(run([3, 3])).toEqual(nullLabels);
    expect(run([1, 1])).not.toEqual(nullLabels);
    const unlabeled = inputs(2);
    expect(catchDiffusionError(() => model.predict(unlabeled), 'invalid-argument').message).toMatch(/null label/);
    tf.dispose([unlabeled.x, unlabeled.timesteps]);
    model.dispose();
  });

  it('validates input shapes', () => {
    const model = createUNet(tiny);
    const timesteps = tf.tensor1d([1, 2]);
    const wrongSize = tf.zeros([2, 16, 16, 1]);
    const wrongChannels = tf.zeros([2, 8, 8, 3]);
    const good = tf.zeros([2, 8, 8, 1]);
    expect(catchDiffusionError(() => model.predict({ x: wrongSize, timesteps }), 'invalid-shape').message).toMatch(
      /unet: x must have shape \[\?, 8, 8, 1\], got \[2, 16, 16, 1\]/,
    );
    catchDiffusionError(() => model.predict({ x: wrongChannels, timesteps }), 'invalid-shape');
    const shortTimesteps = tf.tensor1d([1]);
    expect(catchDiffusionError(() => model.predict({ x: good, timesteps: shortTimesteps }), 'invalid-shape').message).toMatch(/timesteps/);
    const labels = tf.tensor1d([0, 1], 'int32');
    catchDiffusionError(() => model.predict({ x: good, timesteps, condition: { classLabels: labels } }), 'invalid-argument');
    tf.dispose([timesteps, wrongSize, wrongChannels, good, shortTimesteps, labels]);
    model.dispose();
  });

  it('leaves no tensor behind in predict, inside or outside tf.tidy', () => {
    const initial = tf.memory().numTensors;
    const model = createUNet({ ...tiny, numClasses: 2, variance: 'learned-range', dropout: 0.1 });
    const input = inputs(2, [0, 2]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.predict(input);
      model.predict({ ...input, training: true });
    });
    expect(tf.memory().numTensors).toBe(before);
    const output = model.predict(input);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([output.prediction, output.varianceValues as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([input.x, input.timesteps, input.condition?.classLabels as tf.Tensor]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(initial);
  });

  it('builds BigGAN up/down residual blocks and average-pool / nearest resampling', () => {
    for (const variant of [{ resblockUpdown: true }, { convResample: false, resblockRescale: true, numHeadChannels: 4 }]) {
      const model = createUNet({ ...tiny, ...variant });
      randomizeParameters(model.parameters, 'variant', 0.2);
      const input = inputs(1);
      const output = tf.tidy(() => model.predict(input).prediction);
      expect(output.shape).toEqual([1, 8, 8, 1]);
      expect(Number.isFinite(output.dataSync()[0])).toBe(true);
      tf.dispose([output, input.x, input.timesteps]);
      if (variant.resblockUpdown) expect(model.parameters.has('input_blocks.2.0.in_layers.2.weight')).toBe(true);
      else expect([...model.parameters.keys()].some((name) => name.startsWith('input_blocks.2.'))).toBe(false);
      model.dispose();
    }
  });

  it('lowers an L2 loss on fixed data in a few Adam steps', () => {
    const model = createUNet({ ...tiny, numClasses: 2 });
    const input = inputs(2, [0, 1]);
    const target = randomTensor([2, 8, 8, 1], 'target');
    const optimizer = tf.train.adam(1e-2);
    const variables = [...model.parameters.values()];
    const losses: number[] = [];
    for (let step = 0; step < 6; step += 1) {
      const loss = optimizer.minimize(() => tf.mean(tf.squaredDifference(model.predict(input).prediction, target)), true, variables);
      losses.push((loss as tf.Scalar).dataSync()[0] as number);
      loss?.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(0.7 * (losses[0] as number));
    optimizer.dispose();
    tf.dispose([input.x, input.timesteps, input.condition?.classLabels as tf.Tensor, target]);
    model.dispose();
  });
});

describe('unetPresets', () => {
  it("'torch-peer' has the PyTorch reference net's 1,142,337 parameters and layout", () => {
    const model = createUNet(unetPresets['torch-peer']);
    expect(countParameters(model)).toBe(1_142_337);
    const shapes = Object.fromEntries([...model.parameters].map(([name, variable]) => [name, variable.shape]));
    expect(shapes['time_embed.0.weight']).toEqual([32, 128]);
    expect(shapes['label_emb.weight']).toEqual([11, 128]);
    expect(shapes['input_blocks.0.0.weight']).toEqual([3, 3, 1, 32]);
    expect(shapes['input_blocks.2.0.op.weight']).toEqual([3, 3, 32, 32]);
    expect(shapes['input_blocks.3.0.skip_connection.weight']).toEqual([1, 1, 32, 64]);
    expect(shapes['middle_block.1.qkv.weight']).toEqual([1, 64, 192]);
    expect(shapes['output_blocks.0.0.in_layers.2.weight']).toEqual([3, 3, 128, 64]);
    expect(shapes['output_blocks.1.1.conv.weight']).toEqual([3, 3, 64, 64]);
    expect(shapes['output_blocks.4.0.in_layers.2.weight']).toEqual([3, 3, 96, 32]);
    expect(shapes['output_blocks.5.0.skip_connection.weight']).toEqual([1, 1, 64, 32]);
    expect(shapes['out.2.weight']).toEqual([3, 3, 32, 1]);
    expect(Object.keys(shapes).filter((name) => name.includes('.qkv.'))).toEqual(['middle_block.1.qkv.weight', 'middle_block.1.qkv.bias']);
    model.dispose();
  });

  it("'mnist-small' runs on 28x28 images (28 -> 14 -> 7)", () => {
    const model = createUNet(unetPresets['mnist-small']);
    expect(countParameters(model)).toBe(1_142_337);
    const x = tf.zeros([1, 28, 28, 1]);
    const timesteps = tf.tensor1d([500]);
    const classLabels = tf.tensor1d([10], 'int32');
    const output = tf.tidy(() => model.predict({ x, timesteps, condition: { classLabels } }).prediction);
    expect(output.shape).toEqual([1, 28, 28, 1]);
    tf.dispose([x, timesteps, classLabels, output]);
    model.dispose();
  });
});
