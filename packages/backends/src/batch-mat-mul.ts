import type { KernelBackend, KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { callKernel, disposeIntermediates } from './kernel-calls.js';

/**
 * BatchMatMul for wasm that transposes explicitly before multiplying. tfjs-backend-wasm 4.22's
 * BatchMatMul with transposeA or transposeB is 5-8x slower than a Transpose plus a plain
 * BatchMatMul (measured on [256,128]x[256,128]: 2.97 ms against 0.38 ms), and every weight
 * gradient of a matMul uses a transposed product.
 *
 * Batch invariance: tfjs-backend-wasm 4.22 multiplies a product whose batch is 1 with XNNPACK and a
 * batched one with its own blocked loop, which round differently (a GroupNorm's sums of one image
 * alone differed from the same image's in a batch in 13 of 16 values). A rank >= 3 product with a
 * batch of 1 is therefore run as a batch of 2 (the operands twice) and its first half kept, so that
 * an image's result does not depend on how many images share the batch.
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
      const singleBatch = backendName === 'wasm' && Math.max(a.shape.length, b.shape.length) >= 3 && batchSize(a) === 1 && batchSize(b) === 1;
      if (!transposeA && !transposeB && !singleBatch) return replaced.kernelFunc({ inputs, attrs, backend });
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
      if (!singleBatch) {
        const output = replaced.kernelFunc({
          inputs: { ...inputs, a: left, b: right },
          attrs: { ...attrs, transposeA: false, transposeB: false },
          backend,
        });
        disposeIntermediates(backend, intermediates);
        return output;
      }
      // the batched path for a batch of 1: both operands twice along the first axis, the first half kept
      const twice = (info: TensorInfo): TensorInfo => {
        const padded = info.shape.length >= 3 ? info : callKernel('Reshape', backendName, backend, { x: info }, { shape: [1, ...info.shape] });
        if (padded !== info) intermediates.push(padded);
        const doubled = callKernel('Concat', backendName, backend, [padded, padded] as unknown as NamedTensorInfoMap, { axis: 0 });
        intermediates.push(doubled);
        return doubled;
      };
      const pair = replaced.kernelFunc({
        inputs: { ...inputs, a: twice(left), b: twice(right) },
        attrs: { ...attrs, transposeA: false, transposeB: false },
        backend,
      }) as TensorInfo;
      const size = [1, ...pair.shape.slice(1)];
      const first = callKernel('Slice', backendName, backend, { x: pair }, { begin: pair.shape.map(() => 0), size });
      intermediates.push(pair);
      const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), ...pair.shape.slice(-2)];
      const output = callKernel('Reshape', backendName, backend, { x: first }, { shape: outShape });
      intermediates.push(first);
      disposeIntermediates(backend, intermediates);
      return output;
    },
  };
}

function batchSize(info: TensorInfo): number {
  return info.shape.slice(0, -2).reduce((product, size) => product * size, 1);
}
