import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * The most float32 parameter bytes a pipeline may hold on the wasm backend. tfjs-backend-wasm's
 * memory stops at 4 GiB (wasm32); the weights, the copies XNNPACK packs of each on first use and
 * the activations must fit in it. Measured (docs/published-models.md): guided-diffusion's
 * ImageNet-64 model (1.18 GB of float32 weights) evaluates at 3.5 GB; the 128x128 one (1.69 GB)
 * runs out of memory inside XNNPACK and aborts the module.
 */
export const WASM_PARAMETER_BYTES_LIMIT = 1.5e9;

const advice = 'use the cpu backend (JavaScript memory, no 4 GiB heap; native kernels where built) or webgpu';

/** Refuses, before anything is allocated, a model whose weights cannot be evaluated on the active wasm backend. */
export function checkWasmParameterBytes(parameterCount: number, what: string): void {
  if (tf.getBackend() !== 'wasm') return;
  const bytes = parameterCount * 4;
  if (bytes > WASM_PARAMETER_BYTES_LIMIT) {
    throw new DiffusionError(
      'backend-unavailable',
      `${what}: ${parameterCount.toLocaleString('en-US')} parameters are ${(bytes / 1e9).toFixed(2)} GB in float32, more than the ` +
        `${WASM_PARAMETER_BYTES_LIMIT / 1e9} GB the wasm backend can evaluate within its 4 GiB memory; ${advice}`,
    );
  }
}

/** An error of the wasm module running out of memory (XNNPACK status 6, an abort, an out-of-bounds access) as a DiffusionError saying so; others unchanged. */
export function wasmMemoryError(error: unknown): unknown {
  if (tf.getBackend() !== 'wasm' || error instanceof DiffusionError || !(error instanceof Error)) return error;
  if (!/out of memory|status 6|Aborted|memory access out of bounds|Cannot enlarge memory/i.test(error.message)) return error;
  return new DiffusionError(
    'backend-unavailable',
    `the wasm backend ran out of its 4 GiB memory evaluating this model (${error.message}); ${advice}`,
    {
      cause: error,
    },
  );
}
