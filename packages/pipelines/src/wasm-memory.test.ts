import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { DiffusionError } from '@tfjs-diffusion/core';
import { afterAll, describe, expect, it } from 'vitest';
import { WASM_PARAMETER_BYTES_LIMIT, checkWasmParameterBytes, wasmMemoryError } from './wasm-memory.js';

describe('the wasm memory bound', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('refuses on wasm, before loading, a model whose float32 weights exceed the bound (guided-128x128: 421.5 M parameters); the 64x64 model passes', async () => {
    await tf.setBackend('wasm');
    expect(() => checkWasmParameterBytes(295_904_454, 'guided-64x64.safetensors')).not.toThrow();
    let caught: unknown;
    try {
      checkWasmParameterBytes(421_529_606, 'guided-128x128.safetensors');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DiffusionError);
    expect((caught as DiffusionError).code).toBe('backend-unavailable');
    expect((caught as Error).message).toMatch(
      /guided-128x128\.safetensors: 421,529,606 parameters are 1\.69 GB in float32.*wasm backend.*cpu backend.*webgpu/,
    );
    expect(WASM_PARAMETER_BYTES_LIMIT).toBeGreaterThan(295_904_454 * 4);
  });

  it('leaves other backends alone', async () => {
    await tf.setBackend('cpu');
    expect(() => checkWasmParameterBytes(421_529_606, 'guided-128x128.safetensors')).not.toThrow();
  });

  it("names the wasm module's out-of-memory failures and passes other errors through", async () => {
    await tf.setBackend('wasm');
    const translated = wasmMemoryError(new Error('failed to create fully connected operator: xnn_create_fully_connected_nc_f32 status 6'));
    expect(translated).toBeInstanceOf(DiffusionError);
    expect((translated as Error).message).toMatch(/ran out of its 4 GiB memory.*status 6.*cpu backend/);
    const other = new Error('some other failure');
    expect(wasmMemoryError(other)).toBe(other);
    await tf.setBackend('cpu');
    const onCpu = new Error('Aborted()');
    expect(wasmMemoryError(onCpu)).toBe(onCpu);
  });
});
