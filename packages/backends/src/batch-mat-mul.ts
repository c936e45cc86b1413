import type { KernelBackend, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { callKernel, disposeIntermediates } from './kernel-calls.js';

/**
 * BatchMatMul for wasm that transposes explicitly before multiplying. tfjs-backend-wasm 4.22's
 * BatchMatMul with transposeA or transposeB is 5-8x slower than a Transpose plus a plain
 * BatchMatMul (measured on [256,128]x[256,128]: 2.97 ms against 0.38 ms), and every weight
 * gradient of a matMul uses a transposed product.
 */
export function batchMatMulKernel(backendName: string, replaced?: KernelConfig): KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName,
    // wasm kernels bind their C function in setupFunc when the backend starts: keep it.
    ...(replaced?.setupFunc ? { setupFunc: replaced.setupFunc } : {}),
    kernelFunc: ({ inputs, attrs, backend: anyBackend }) => {
      const backend = anyBackend as KernelBackend;
      if (replaced === undefined) throw new Error(`backend '${backendName}' has no BatchMatMul kernel to delegate to`);
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return replaced.kernelFunc({ inputs, attrs, backend });
      const swapLast = (info: TensorInfo): TensorInfo => {
        const rank = info.shape.length;
        const perm = [...Array(rank).keys()];
        [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1] as number, perm[rank - 2] as number];
        return callKernel('Transpose', backendName, backend, { x: info }, { perm });
      };
      const intermediates: TensorInfo[] = [];
      const left = transposeA ? swapLast(a) : a;
      const right = transposeB ? swapLast(b) : b;
      if (transposeA) intermediates.push(left);
      if (transposeB) intermediates.push(right);
      const output = replaced.kernelFunc({ inputs: { ...inputs, a: left, b: right }, attrs: { ...attrs, transposeA: false, transposeB: false }, backend });
      disposeIntermediates(backend, intermediates);
      return output;
    },
  };
}
