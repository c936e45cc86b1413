import { existsSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { describe, expect, it } from 'vitest';

import { selectBackend } from './select-backend.js';
import { maxAbsDifference, pseudoRandom } from './test-utils/reference-convolution.js';
import { SWIFTSHADER_ICD_PATH } from './webgpu-node.js';

// Without a GPU, WebGPU in Node runs on SwiftShader from Debian/Ubuntu's chromium package.
const softwareDriver = existsSync(SWIFTSHADER_ICD_PATH);
if (!softwareDriver) {
  console.log(`skipping the WebGPU (Dawn) tests: ${SWIFTSHADER_ICD_PATH} is absent; apt-get install -y chromium provides it`);
}

describe.skipIf(!softwareDriver)('webgpu in Node (Dawn)', () => {
  it('selects webgpu and computes conv2d and its gradients as cpu does', async () => {
    const xValues = pseudoRandom(2 * 9 * 9 * 3, 1);
    const filterValues = pseudoRandom(3 * 3 * 3 * 4, 2);
    // Reads are asynchronous: tfjs-backend-webgpu's dataSync needs OffscreenCanvas, absent in Node.
    const run = async (): Promise<Float32Array[]> => {
      const outputs = tf.tidy(() => {
        const x = tf.tensor4d(xValues, [2, 9, 9, 3]);
        const filter = tf.tensor4d(filterValues, [3, 3, 3, 4]);
        const y = tf.conv2d(x, filter, 2, 'same');
        const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')));
        const [dx, dFilter] = tf.grads(loss)([x, filter]);
        return [y, dx!, dFilter!];
      });
      const values = await Promise.all(outputs.map((tensor) => tensor.data() as Promise<Float32Array>));
      tf.dispose(outputs);
      return values;
    };

    const choice = await selectBackend('webgpu');
    expect(choice).toMatchObject({ requested: 'webgpu', active: 'webgpu' });
    console.log(choice.reason);
    const tensorsBefore = tf.memory().numTensors;
    const onWebgpu = await run();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await selectBackend('cpu');
    const onCpu = await run();
    const errors = onWebgpu.map((values, index) => maxAbsDifference(values, onCpu[index]!));
    console.log('webgpu vs cpu max abs difference [conv2d, input gradient, filter gradient]:', errors);
    for (const error of errors) expect(error).toBeLessThan(1e-3);
  });
});
