import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParameterStore, buildWithStore } from './parameter-store.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';

beforeAll(useCpuBackend);

describe('ParameterStore', () => {
  it('creates dotted names in tfjs layouts with PyTorch-default bounds', () => {
    const store = new ParameterStore(1);
    const block = store.scope('input_blocks').scope(1);
    const conv = block.conv2d('conv', 4, 6, 3);
    const dense = store.dense('linear', 10, 5);
    const norm = store.groupNorm('norm', 8, 4);
    const table = store.embedding('label_emb', 11, 7);
    expect([...store.parameters.keys()]).toEqual([
      'input_blocks.1.conv.weight',
      'input_blocks.1.conv.bias',
      'linear.weight',
      'linear.bias',
      'norm.weight',
      'norm.bias',
      'label_emb.weight',
    ]);
    expect(conv.weight.shape).toEqual([3, 3, 4, 6]);
    expect(dense.weight.shape).toEqual([10, 5]);
    expect(table.shape).toEqual([11, 7]);
    const convValues = conv.weight.dataSync();
    const bound = 1 / Math.sqrt(4 * 9);
    expect(Math.max(...convValues.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...convValues.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Array.from(norm.weight.dataSync())).toEqual(new Array(8).fill(1));
    expect(Array.from(norm.bias.dataSync())).toEqual(new Array(8).fill(0));
    store.dispose();
  });

  it('is deterministic per seed and per name, independent of creation order', () => {
    const first = new ParameterStore('seed');
    first.dense('a', 3, 3);
    const b1 = first.dense('b', 3, 3).weight.dataSync();
    const second = new ParameterStore('seed');
    const b2 = second.dense('b', 3, 3).weight.dataSync();
    const other = new ParameterStore('other');
    const b3 = other.dense('b', 3, 3).weight.dataSync();
    expect(Array.from(b1)).toEqual(Array.from(b2));
    expect(Array.from(b1)).not.toEqual(Array.from(b3));
    for (const store of [first, second, other]) store.dispose();
  });

  it('zero-initialises on request and rejects duplicates and groups that do not divide', () => {
    const store = new ParameterStore(0);
    const zero = store.conv2d('out', 4, 2, 3, true);
    expect(Array.from(zero.weight.dataSync()).every((value) => value === 0)).toBe(true);
    expect(() => store.conv2d('out', 4, 2, 3)).toThrow(/"out.weight" was created twice/);
    expect(() => store.scope('x').groupNorm('norm', 12, 8)).toThrow(/groupNormGroups 8 must divide the 12 channels of x.norm/);
    store.dispose();
  });

  it('disposes what it built when the build fails', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      buildWithStore(0, undefined, (store) => {
        store.dense('a', 4, 4);
        throw new Error('bad config');
      }),
    ).toThrow('bad config');
    expect(tf.memory().numTensors).toBe(before);
  });
});
