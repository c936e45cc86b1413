import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParameterStore } from './parameter-store.js';
import { createDownsample, createUpsample, downsampleAverage, upsampleNearest } from './resample.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { compareInputGradient, gradientsAgree, projectToScalar, randomTensor } from './test-utils/gradient-check.js';

beforeAll(useCpuBackend);

describe('resampling', () => {
  it('upsamples by nearest neighbour and downsamples by 2x2 averages', () => {
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    tf.tidy(() => {
      const up = upsampleNearest(x);
      expect(up.shape).toEqual([1, 4, 4, 2]);
      // channel 0 of the 4x4 output
      expect(Array.from(tf.reshape(tf.slice(up, [0, 0, 0, 0], [1, 4, 4, 1]), [16]).dataSync())).toEqual([
        1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
      ]);
      expect(Array.from(downsampleAverage(x).dataSync())).toEqual([2.5, 25]);
      expect(Array.from(downsampleAverage(up).dataSync())).toEqual(Array.from(x.dataSync()));
    });
    x.dispose();
  });

  it('upsamples odd shapes by copying input (i / 2, j / 2), with and without a tape', () => {
    const x = randomTensor([2, 3, 5, 3], 'odd');
    const values = x.dataSync();
    const expected = new Float32Array(2 * 6 * 10 * 3);
    for (let b = 0; b < 2; b += 1)
      for (let i = 0; i < 6; i += 1)
        for (let j = 0; j < 10; j += 1)
          for (let c = 0; c < 3; c += 1) expected[((b * 6 + i) * 10 + j) * 3 + c] = values[((b * 3 + (i >> 1)) * 5 + (j >> 1)) * 3 + c] as number;
    const plain = tf.tidy(() => Array.from(upsampleNearest(x as tf.Tensor4D).dataSync()));
    let taped: number[] = [];
    tf.grad((input: tf.Tensor) => {
      const up = upsampleNearest(input as tf.Tensor4D);
      taped = Array.from(up.dataSync());
      return tf.sum(up);
    })(x).dispose();
    expect(plain).toEqual(Array.from(expected));
    expect(taped).toEqual(Array.from(expected));
    x.dispose();
  });

  it('has a working gradient for nearest upsampling', () => {
    const x = randomTensor([2, 3, 3, 2], 'up');
    expect(gradientsAgree(compareInputGradient((input) => projectToScalar(upsampleNearest(input as tf.Tensor4D), 'up-w'), x))).toBe(true);
    x.dispose();
  });

  it('pads a stride-2 conv symmetrically like PyTorch (padding 1)', () => {
    const store = new ParameterStore(0);
    const down = createDownsample(store.scope('down'), 1, true);
    const up = createUpsample(store.scope('up'), 1, true);
    expect([...store.parameters.keys()]).toEqual(['down.op.weight', 'down.op.bias', 'up.conv.weight', 'up.conv.bias']);
    // a 3x3 kernel that reads only its top-left tap: output (i, j) = input (2i - 1, 2j - 1), 0 outside
    const kernel = new Float32Array(9);
    kernel[0] = 1;
    store.parameters.get('down.op.weight')?.assign(tf.tensor4d(kernel, [3, 3, 1, 1]));
    store.parameters.get('down.op.bias')?.assign(tf.zeros([1]));
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, index) => index + 1),
      [1, 4, 4, 1],
    );
    tf.tidy(() => {
      expect(Array.from(down.apply(x).dataSync())).toEqual([0, 0, 0, 6]);
      expect(up.apply(x).shape).toEqual([1, 8, 8, 1]);
    });
    x.dispose();
    store.dispose();
  });
});
