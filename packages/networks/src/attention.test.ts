import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionHeads, createAttentionBlock, qkvAttention, type QkvOrder } from './attention.js';
import { ParameterStore } from './parameter-store.js';
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

/** Attention with loops, reading q, k, v of head h from the channel layout of `order`. */
function naiveAttention(qkv: number[][][], heads: number, order: QkvOrder): number[][][] {
  return qkv.map((tokens) => {
    const width = (tokens[0] as number[]).length;
    const d = width / (3 * heads);
    const channel = (head: number, part: number, i: number): number =>
      order === 'heads-first' ? head * 3 * d + part * d + i : part * heads * d + head * d + i;
    return tokens.map((queryToken) => {
      const out: number[] = [];
      for (let head = 0; head < heads; head += 1) {
        const logits = tokens.map((keyToken) => {
          let dot = 0;
          for (let i = 0; i < d; i += 1) dot += (queryToken[channel(head, 0, i)] as number) * (keyToken[channel(head, 1, i)] as number);
          return dot / Math.sqrt(d);
        });
        const top = Math.max(...logits);
        const weights = logits.map((logit) => Math.exp(logit - top));
        const total = weights.reduce((sum, weight) => sum + weight, 0);
        for (let i = 0; i < d; i += 1) {
          out.push(tokens.reduce((sum, valueToken, s) => sum + ((weights[s] as number) / total) * (valueToken[channel(head, 2, i)] as number), 0));
        }
      }
      return out;
    });
  });
}

describe('qkvAttention', () => {
  for (const order of ['heads-first', 'qkv-first'] as const) {
    it(`matches softmax(q k^T / sqrt(d)) v per head (${order}, 2 heads)`, () => {
      const qkv = randomTensor([2, 5, 12], `qkv-${order}`) as tf.Tensor3D;
      const expected = naiveAttention(qkv.arraySync(), 2, order);
      const actual = tf.tidy(() => qkvAttention(qkv, 2, order).arraySync());
      actual.forEach((tokens, b) => tokens.forEach((values, t) => values.forEach((value, c) => expect(value).toBeCloseTo(expected[b]![t]![c]!, 5))));
      qkv.dispose();
    });
  }

  it('gives the same result in both orders with one head', () => {
    const qkv = randomTensor([1, 4, 9], 'one-head') as tf.Tensor3D;
    const [legacy, split] = tf.tidy(() => [qkvAttention(qkv, 1, 'heads-first').dataSync(), qkvAttention(qkv, 1, 'qkv-first').dataSync()]);
    expect(Array.from(legacy)).toEqual(Array.from(split));
    qkv.dispose();
  });

  it('derives heads from numHeadChannels or numHeads and rejects what does not divide', () => {
    expect(attentionHeads(64, 1, 16, 'x')).toBe(4);
    expect(attentionHeads(64, 2, null, 'x')).toBe(2);
    expect(() => attentionHeads(48, 1, 32, 'middle_block.1')).toThrow(/numHeadChannels 32 must divide the 48 channels.*middle_block.1/);
    expect(() => attentionHeads(6, 4, null, 'x')).toThrow(/numHeads 4/);
  });
});

describe('createAttentionBlock', () => {
  it('starts as the identity (zero-initialised proj_out) and names its parameters like ADM', () => {
    const store = new ParameterStore(0);
    const block = createAttentionBlock(store.scope('middle_block.1'), { channels: 8, heads: 2, groups: 4 });
    expect([...store.parameters.keys()]).toEqual([
      'middle_block.1.norm.weight',
      'middle_block.1.norm.bias',
      'middle_block.1.qkv.weight',
      'middle_block.1.qkv.bias',
      'middle_block.1.proj_out.weight',
      'middle_block.1.proj_out.bias',
    ]);
    expect(store.parameters.get('middle_block.1.qkv.weight')?.shape).toEqual([1, 8, 24]);
    const x = randomTensor([2, 3, 3, 8], 'attention-x') as tf.Tensor4D;
    const output = tf.tidy(() => block.apply(x).dataSync());
    expect(Array.from(output)).toEqual(Array.from(x.dataSync()));
    x.dispose();
    store.dispose();
  });

  it('has gradients that agree with finite differences (input, qkv and proj_out)', () => {
    const store = new ParameterStore(0);
    const block = createAttentionBlock(store, { channels: 8, heads: 2, groups: 4 });
    randomizeParameters(store.parameters, 'attention-params', 0.4);
    const x = randomTensor([2, 3, 3, 8], 'attention-gx');
    const f = (input: tf.Tensor): tf.Scalar => projectToScalar(block.apply(input as tf.Tensor4D), 'attention-w');
    expect(gradientsAgree(compareInputGradient(f, x))).toBe(true);
    for (const name of ['qkv.weight', 'proj_out.weight']) {
      expect(gradientsAgree(compareVariableGradient(() => f(x), store.parameters.get(name) as tf.Variable))).toBe(true);
    }
    x.dispose();
    store.dispose();
  });
});
