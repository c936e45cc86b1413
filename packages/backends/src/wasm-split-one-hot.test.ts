import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select-backend.js';
import { describe, expect, it } from 'vitest';

describe('wasm kernel replacements', () => {
  it('SplitV on any axis and a float32 OneHot give the exact values', async () => {
    await selectBackend('wasm');
    const values = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i * 0.5 - 7);
    const x = tf.tensor4d(values, [2, 3, 4, 5]);
    for (const [sizes, axis] of [
      [[2, 3], 3],
      [[1, 3], 2],
      [[2, 1], 1],
      [[1, 1], 0],
      [[5], 3],
    ] as const) {
      const parts = tf.split(x, [...sizes], axis);
      let begin = 0;
      for (const [index, part] of parts.entries()) {
        const beginList = [0, 0, 0, 0];
        beginList[axis] = begin;
        const sizeList = [...x.shape];
        sizeList[axis] = sizes[index] as number;
        // the reference: the values picked on the host
        const expected: number[] = [];
        for (let a = 0; a < sizeList[0]!; a += 1)
          for (let b = 0; b < sizeList[1]!; b += 1)
            for (let c = 0; c < sizeList[2]!; c += 1)
              for (let d = 0; d < sizeList[3]!; d += 1) {
                const [i, j, k, l] = [a + beginList[0]!, b + beginList[1]!, c + beginList[2]!, d + beginList[3]!];
                expected.push(values[((i * 3 + j) * 4 + k) * 5 + l]!);
              }
        expect(part.shape).toEqual(sizeList);
        expect(Array.from(await part.data())).toEqual(expected);
        begin += sizes[index] as number;
      }
      tf.dispose(parts);
    }
    const hot = tf.oneHot(tf.tensor1d([2, 0, 5], 'int32'), 4, 1, 0, 'float32');
    expect(hot.dtype).toBe('float32');
    expect(Array.from(await hot.data())).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const scaled = tf.oneHot(tf.tensor1d([1], 'int32'), 3, 0.5, -0.25, 'float32');
    expect(Array.from(await scaled.data())).toEqual([-0.25, 0.5, -0.25]);
    tf.dispose([x, hot, scaled]);
  });
});
