import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapParameterSource } from './load-parameters.js';
import { createNetwork, parameterShapes } from './network-factory.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';

beforeAll(useCpuBackend);

const configs = {
  unet: {
    type: 'unet',
    imageSize: 8,
    inChannels: 3,
    modelChannels: 8,
    channelMultipliers: [0.5, 1],
    numResBlocks: 1,
    attentionResolutions: [4],
    numHeadChannels: 4,
    numHeadsUpsample: 1,
    groupNormGroups: 4,
    numClasses: 3,
    resblockUpdown: true,
    attentionOrder: 'qkv-first',
    variance: 'learned-range',
    lowResolutionSize: 4,
  },
  spatial: {
    type: 'classifier',
    imageSize: 8,
    inChannels: 3,
    modelChannels: 8,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    groupNormGroups: 4,
    numClasses: 5,
    pool: 'spatial_v2',
  },
} as const;

describe('parameterShapes', () => {
  it('lists the same names and shapes as the built network, allocating no tensor', () => {
    for (const config of Object.values(configs)) {
      const before = tf.memory().numTensors;
      const shapes = parameterShapes(config);
      expect(tf.memory().numTensors).toBe(before);
      const network = createNetwork(config);
      expect([...shapes.keys()]).toEqual([...network.parameters.keys()]);
      for (const [name, variable] of network.parameters) expect(shapes.get(name)).toEqual(variable.shape);
      network.dispose();
    }
    const unet = parameterShapes(configs.unet);
    // fractional multiplier: trunc(0.5 * 8) = 4 channels at the first level, 6 input channels (x and the low-resolution image)
    expect(unet.get('input_blocks.0.0.weight')).toEqual([3, 3, 6, 4]);
    expect(unet.get('out.2.weight')).toEqual([3, 3, 4, 6]);
    const spatial = parameterShapes(configs.spatial);
    // spatial_v2: the means of 4 input blocks (8, 8, 8, 16 channels) and the middle block (16) -> 2048 -> GN -> 5
    expect(spatial.get('out.0.weight')).toEqual([56, 2048]);
    expect(spatial.get('out.1.weight')).toEqual([2048]);
    expect(spatial.get('out.3.weight')).toEqual([2048, 5]);
  });

  it('builds from a parameter source without a random initialisation, and reports what it did not use', () => {
    const shapes = parameterShapes(configs.spatial);
    const tensors = new Map(
      [...shapes].map(([name, shape]) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }]),
    );
    tensors.set('extra.weight', { shape: [1], data: new Float32Array(1) });
    const { source, unused } = mapParameterSource(tensors);
    const network = createNetwork(configs.spatial, { parameterSource: source });
    expect(unused()).toEqual(['extra.weight']);
    expect(Array.from(network.parameters.get('out.3.bias')?.dataSync() ?? []).every((value) => value === 0.5)).toBe(true);
    network.dispose();
    const wrong = new Map(
      [...shapes].map(([name, shape]) => [
        name,
        { shape: name === 'out.0.bias' ? [3] : shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
      ]),
    );
    expect(() => createNetwork(configs.spatial, { parameterSource: mapParameterSource(wrong).source })).toThrow(
      /parameter "out.0.bias": the network needs \[2048\], the weights have \[3\]/,
    );
  });
});
