import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { randomTensor, randomizeParameters } from './test-utils/gradient-check.js';
import { createUNet } from './unet.js';

beforeAll(useCpuBackend);

/**
 * The output of a NumPy transcription of shared/peers/torch_unet.py's forward pass (NCHW,
 * PyTorch layouts; scripts/torch-peer-numpy.py), UNet(ch=8, mults=(1, 2), ncls=2, edim=32), fed
 * the parameters below converted by name. NHWC [2, 8, 8, 1], row-major.
 */
const NUMPY_PEER_OUTPUT = [
  0.358775, 0.708712, 0.407648, 0.141344, 0.376061, 0.701683, -0.099257, -0.345903, 0.068836, 0.267883, 0.724271, 0.77772, 0.220137, 0.605206,
  0.717301, -0.321082, 0.339163, 0.075277, 1.357528, 2.521148, 0.832934, 0.153213, 1.662143, 0.995965, 0.709638, 0.104448, 0.632375, 1.985067,
  1.225554, -0.27738, 0.224016, 0.797513, 0.261307, -0.229922, 0.032771, 0.43419, 0.004509, -0.360231, -0.586385, -1.013264, 0.428497, 0.14853,
  0.224542, 0.048063, -0.662604, 0.683334, 0.898226, -0.488532, 0.520744, 0.991761, 0.841837, -0.163817, 0.333198, 1.552694, 1.470291, 0.874104,
  -0.142267, 0.692047, 0.977985, -0.47489, -0.090651, -0.096384, -0.380815, 0.577701, 0.058543, 0.554916, 0.287031, -0.010845, 0.017285, -0.024281,
  -0.230957, -0.453701, 0.228196, 1.092587, 0.565202, 0.238571, 0.553918, 0.384101, 0.748877, -0.386711, 0.564729, 1.700787, 0.572263, -0.073434,
  0.615156, 1.093475, 1.719581, -0.354253, 0.249222, 0.747908, 0.060642, -0.012227, 0.30862, 1.236602, 1.328664, -0.113376, 0.190728, 0.25905,
  0.431495, 0.477584, 0.211892, 0.46526, 0.668598, -0.342942, 0.213851, 0.318397, 0.51316, 0.585517, 0.377053, 0.61606, 0.799228, -0.077318, 0.441065,
  0.707422, 0.644851, 0.416105, 0.583726, 1.305286, 0.420485, -0.01404, -0.436714, -0.012385, -0.239682, -0.352134, -0.165027, 0.228518, -0.223626,
  -0.361482,
];

describe('createUNet with the torch-peer layout', () => {
  it('matches the PyTorch reference net (NumPy transcription) on the same weights', () => {
    const model = createUNet({
      imageSize: 8,
      inChannels: 1,
      modelChannels: 8,
      channelMultipliers: [1, 2],
      numResBlocks: 1,
      numResBlocksUp: 2,
      groupNormGroups: 8,
      numClasses: 2,
      seed: 5,
    });
    randomizeParameters(model.parameters, 'peer-fixture', 0.3);
    const x = randomTensor([2, 8, 8, 1], 'peer-x');
    const timesteps = tf.tensor1d([3, 917]);
    const classLabels = tf.tensor1d([1, 2], 'int32');
    const output = tf.tidy(() => Array.from(model.predict({ x, timesteps, condition: { classLabels } }).prediction.dataSync()));
    expect(output).toHaveLength(NUMPY_PEER_OUTPUT.length);
    const worst = Math.max(...output.map((value, index) => Math.abs(value - (NUMPY_PEER_OUTPUT[index] as number))));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, timesteps, classLabels]);
    model.dispose();
  });
});
