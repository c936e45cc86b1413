import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';

import { selectBackend } from './select-backend.js';

describe('Identity and same-dtype Cast on wasm share memory', () => {
  beforeAll(async () => {
    await selectBackend('wasm', { nativeKernels: false });
  });

  it('give the same values, keep them after the input is disposed, and free everything', () => {
    const dataIds = tf.engine().backend.numDataIds();
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    const real = tf.tensor1d([1.7, -2.2]);
    const integer = tf.cast(real, 'int32');
    expect(tf.engine().backend.numDataIds()).toBe(dataIds + 3); // x (shared by copy and same), real, integer (a conversion)
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(same.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(integer.dataSync())).toEqual([1, -2]);
    expect(integer.dtype).toBe('int32');
    tf.dispose([copy, same, real, integer]);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  });
});
