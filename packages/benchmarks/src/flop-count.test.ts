import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { countFlops, kernelFlops } from './flop-count.js';

describe('countFlops', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('counts a profiled convolution and matrix product and leaves element-wise kernels out', async () => {
    const image = tf.ones([2, 6, 6, 3]);
    const filter = tf.ones([3, 3, 3, 4]);
    const a = tf.ones([5, 7]);
    const b = tf.ones([7, 2]);
    const flops = await countFlops(() => {
      tf.add(tf.conv2d(image as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), 1).dataSync();
      tf.relu(tf.matMul(a, b)).dataSync();
    });
    // 2 * (2*6*6*4 outputs) * (3*3*3 per output) + 2 * (5*2 outputs) * 7
    expect(flops).toBe(2 * 2 * 6 * 6 * 4 * 27 + 2 * 10 * 7);
    expect(tf.memory().numTensors).toBe(4);
    tf.dispose([image, filter, a, b]);
  });

  it('counts the fused convolution-with-residual kernel as its convolution', () => {
    const call = (name: string): number =>
      kernelFlops({ name, inputShapes: [[2, 8, 8, 16], [3, 3, 16, 32], [32], [2, 8, 8, 32]], outputShapes: [[2, 8, 8, 32]] });
    expect(call('TfjsDiffusionConv2DResidual')).toBe(2 * 2 * 8 * 8 * 32 * 3 * 3 * 16);
    expect(call('TfjsDiffusionConv2DResidual')).toBe(call('FusedConv2D'));
  });
});
