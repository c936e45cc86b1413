import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError, type BackendName } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';

import { BACKEND_ENVIRONMENT_VARIABLE, backendFromEnvironment } from './backend-from-environment.js';
import { parseBackendName, selectBackend } from './select-backend.js';
import { hasTrainingKernels } from './training-kernels.js';

async function failure(promise: Promise<unknown>): Promise<DiffusionError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DiffusionError) return error;
    throw error;
  }
  throw new Error('expected a DiffusionError');
}

describe('selectBackend', () => {
  it("'cpu' activates tfjs-backend-cpu with the training kernels", async () => {
    const choice = await selectBackend('cpu');
    expect(choice).toMatchObject({ requested: 'cpu', active: 'cpu' });
    expect(choice.reason).toContain('training kernels registered: Conv2DBackpropFilter');
    expect(tf.getBackend()).toBe('cpu');
    expect(hasTrainingKernels('cpu')).toBe(true);
  });

  it("'wasm' activates tfjs-backend-wasm (SIMD, no threads in Node) with the training kernels, repeatably", async () => {
    const choice = await selectBackend('wasm');
    expect(choice).toMatchObject({ requested: 'wasm', active: 'wasm' });
    expect(choice.reason).toMatch(/SIMD on, threads off/);
    expect(tf.getBackend()).toBe('wasm');
    expect(hasTrainingKernels('wasm')).toBe(true);
    await selectBackend('cpu');
    expect(await selectBackend('wasm')).toMatchObject({ active: 'wasm' });
    // A conv net's filter gradient, which tfjs-backend-wasm alone cannot compute.
    const gradient = tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      return tf
        .grad((filter: tf.Tensor) => tf.sum(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same')))(tf.ones([3, 3, 2, 1]))
        .dataSync();
    });
    expect(gradient[8]).toBe(16); // centre tap: every output pixel reads an input 1
  });

  it("'tensorflow' fails clearly when tfjs-node is not installed", async () => {
    const error = await failure(selectBackend('tensorflow'));
    expect(error.code).toBe('backend-unavailable');
    expect(error.message).toContain('@tensorflow/tfjs-node-gpu is not installed, @tensorflow/tfjs-node is not installed');
    expect(error.message).toContain('npm install @tensorflow/tfjs-node');
  });

  it("'webgl' fails clearly in Node", async () => {
    const error = await failure(selectBackend('webgl'));
    expect(error.code).toBe('backend-unavailable');
    expect(error.message).toMatch(/browser/);
  });

  it("'auto' in Node falls back from tensorflow to wasm and says why", async () => {
    const choice = await selectBackend('auto');
    expect(choice).toMatchObject({ requested: 'auto', active: 'wasm' });
    expect(choice.reason).toMatch(/^auto chose 'wasm': .*; tried first: tensorflow: the 'tensorflow' backend needs tfjs-node: .*is not installed/);
  });

  it('can leave the tfjs kernels alone', async () => {
    const choice = await selectBackend('cpu', { trainingKernels: false });
    expect(choice.reason).toContain('tfjs kernels only');
  });

  it('rejects unknown names, listing the valid ones', async () => {
    const error = await failure(selectBackend('gpu' as BackendName));
    expect(error.code).toBe('unknown-option');
    expect(error.message).toBe("backend 'gpu' is not a backend; valid names: auto, cpu, wasm, webgpu, webgl, tensorflow");
  });
});

describe('backend names from text', () => {
  it('parses names case-insensitively', () => {
    expect(parseBackendName(' WASM ')).toBe('wasm');
    expect(() => parseBackendName('tpu', '--backend')).toThrow("--backend 'tpu' is not a backend");
  });

  it(`reads ${BACKEND_ENVIRONMENT_VARIABLE}`, () => {
    expect(backendFromEnvironment({})).toBeUndefined();
    expect(backendFromEnvironment({ [BACKEND_ENVIRONMENT_VARIABLE]: '' })).toBeUndefined();
    expect(backendFromEnvironment({ [BACKEND_ENVIRONMENT_VARIABLE]: 'webgpu' })).toBe('webgpu');
    expect(() => backendFromEnvironment({ [BACKEND_ENVIRONMENT_VARIABLE]: 'cuda' })).toThrow(
      `${BACKEND_ENVIRONMENT_VARIABLE} 'cuda' is not a backend; valid names: auto, cpu, wasm, webgpu, webgl, tensorflow`,
    );
  });
});
