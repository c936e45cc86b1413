import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createForwardContext } from './forward-context.js';
import { ParameterStore } from './parameter-store.js';
import { createResidualBlock, type ResidualBlockOptions } from './residual-block.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import {
  compareInputGradient,
  compareVariableGradient,
  gradientsAgree,
  projectToScalar,
  randomTensor,
  randomizeParameters,
} from './test-utils/gradient-check.js';

beforeAll(useCpuBackend);

const base: ResidualBlockOptions = {
  inChannels: 8,
  outChannels: 8,
  embeddingChannels: 6,
  groups: 4,
  dropout: 0,
  useScaleShiftNorm: true,
  resample: 'none',
  rescale: false,
};
const inference = createForwardContext(false, createNoiseSource(0));

describe('createResidualBlock', () => {
  it('names its parameters like ADM and has a 1x1 skip only when channels change', () => {
    const store = new ParameterStore(0);
    createResidualBlock(store.scope('a'), base);
    createResidualBlock(store.scope('b'), { ...base, outChannels: 4, useScaleShiftNorm: false });
    const names = [...store.parameters.keys()];
    expect(names.filter((name) => name.startsWith('a.'))).toEqual([
      'a.in_layers.0.weight',
      'a.in_layers.0.bias',
      'a.in_layers.2.weight',
      'a.in_layers.2.bias',
      'a.emb_layers.1.weight',
      'a.emb_layers.1.bias',
      'a.out_layers.0.weight',
      'a.out_layers.0.bias',
      'a.out_layers.3.weight',
      'a.out_layers.3.bias',
    ]);
    expect(store.parameters.get('a.emb_layers.1.weight')?.shape).toEqual([6, 16]);
    expect(store.parameters.get('b.emb_layers.1.weight')?.shape).toEqual([6, 4]);
    expect(store.parameters.get('b.skip_connection.weight')?.shape).toEqual([1, 1, 8, 4]);
    store.dispose();
  });

  it('starts as its skip path (zero-initialised last conv) and resamples for up/down', () => {
    const store = new ParameterStore(0);
    const plain = createResidualBlock(store.scope('plain'), base);
    const down = createResidualBlock(store.scope('down'), { ...base, resample: 'down' });
    const up = createResidualBlock(store.scope('up'), { ...base, resample: 'up', rescale: true });
    const x = randomTensor([2, 4, 4, 8], 'rb-x') as tf.Tensor4D;
    const embedding = randomTensor([2, 6], 'rb-emb') as tf.Tensor2D;
    tf.tidy(() => {
      expect(Array.from(plain.apply(x, embedding, inference).dataSync())).toEqual(Array.from(x.dataSync()));
      const downOutput = down.apply(x, embedding, inference);
      expect(downOutput.shape).toEqual([2, 2, 2, 8]);
      // average pooling of the skip path
      expect(downOutput.dataSync()[0]).toBeCloseTo(tf.mean(tf.slice(x, [0, 0, 0, 0], [1, 2, 2, 1])).dataSync()[0] as number, 5);
      const upOutput = up.apply(x, embedding, inference);
      expect(upOutput.shape).toEqual([2, 8, 8, 8]);
      // nearest upsampling of the skip path, rescaled by 1/sqrt(2)
      expect(upOutput.dataSync()[8 * 8 + 8]).toBeCloseTo((x.dataSync()[0] as number) * Math.SQRT1_2, 5);
    });
    tf.dispose([x, embedding]);
    store.dispose();
  });

  for (const useScaleShiftNorm of [true, false]) {
    it(`has gradients that agree with finite differences (useScaleShiftNorm ${useScaleShiftNorm}, 8 -> 4 channels)`, () => {
      const store = new ParameterStore(0);
      // two groups of 2 channels: with one channel per group, GN would remove an added embedding entirely
      const block = createResidualBlock(store, { ...base, outChannels: 4, groups: 2, useScaleShiftNorm });
      randomizeParameters(store.parameters, 'rb-params', 0.3);
      const x = randomTensor([2, 4, 4, 8], 'rb-gx');
      const embedding = randomTensor([2, 6], 'rb-gemb') as tf.Tensor2D;
      const f = (input: tf.Tensor): tf.Scalar => projectToScalar(block.apply(input as tf.Tensor4D, embedding, inference), 'rb-w');
      expect(gradientsAgree(compareInputGradient(f, x))).toBe(true);
      const g = (input: tf.Tensor): tf.Scalar => projectToScalar(block.apply(x as tf.Tensor4D, input as tf.Tensor2D, inference), 'rb-w');
      expect(gradientsAgree(compareInputGradient(g, embedding))).toBe(true);
      for (const name of ['in_layers.2.weight', 'emb_layers.1.weight', 'out_layers.3.weight']) {
        expect(gradientsAgree(compareVariableGradient(() => f(x), store.parameters.get(name) as tf.Variable))).toBe(true);
      }
      tf.dispose([x, embedding]);
      store.dispose();
    });
  }

  it('applies dropout only in training, with seeded masks', () => {
    const store = new ParameterStore(0);
    const block = createResidualBlock(store, { ...base, dropout: 0.5 });
    randomizeParameters(store.parameters, 'rb-dropout', 0.3);
    const x = randomTensor([1, 4, 4, 8], 'rb-dx') as tf.Tensor4D;
    const embedding = randomTensor([1, 6], 'rb-demb') as tf.Tensor2D;
    const run = (context: ReturnType<typeof createForwardContext>): number[] =>
      tf.tidy(() => Array.from(block.apply(x, embedding, context).dataSync()));
    expect(run(inference)).toEqual(run(createForwardContext(false, createNoiseSource(1))));
    const trainingA = run(createForwardContext(true, createNoiseSource(5)));
    const trainingB = run(createForwardContext(true, createNoiseSource(5)));
    expect(trainingA).toEqual(trainingB);
    expect(trainingA).not.toEqual(run(inference));
    tf.dispose([x, embedding]);
    store.dispose();
  });
});
