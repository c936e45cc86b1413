import { SplitV, backend_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * SplitV for wasm as strided row copies on the wasm heap. tfjs-backend-wasm 4.22 slices with one
 * `subarray` + `set` per innermost row (one per pixel for a channel split) and a generic slow path
 * for rank 5; every Concat's gradient is a SplitV, which made the U-Net's skip concatenations'
 * gradients take seconds per training step.
 */
export function splitVKernel(backendName: string, replaced?: KernelConfig): KernelConfig {
  return {
    kernelName: SplitV,
    backendName,
    kernelFunc: ({ inputs, attrs, backend: anyBackend }) => {
      const backend = anyBackend as unknown as WasmHeapBackend;
      const { x } = inputs as { x: TensorInfo };
      const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
      if (x.dtype === 'string' || typeof backend.typedArrayFromHeap !== 'function') {
        if (replaced === undefined) throw new Error(`backend '${backendName}' has no SplitV kernel to delegate to`);
        return replaced.kernelFunc({ inputs, attrs, backend: anyBackend });
      }
      const $axis = util.parseAxisParam(axis, x.shape)[0] as number;
      const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
      const outer = util.sizeFromShape(x.shape.slice(0, $axis));
      const inner = util.sizeFromShape(x.shape.slice($axis + 1));
      const rowStride = (x.shape[$axis] as number) * inner;
      // 1. every output first (an allocation may grow the wasm heap and detach earlier views), then
      //    views of the heap: no copy of the input
      const outputs = sizes.map((size) => {
        const shape = [...x.shape];
        shape[$axis] = size;
        return backend.makeOutput(shape, x.dtype);
      });
      const source = backend.typedArrayFromHeap(x);
      let start = 0;
      return outputs.map((output, part) => {
        const size = sizes[part] as number;
        const target = backend.typedArrayFromHeap(output);
        const length = size * inner;
        const from = start * inner;
        if (length >= 64 || outer === 1) {
          for (let row = 0; row < outer; row += 1) target.set(source.subarray(row * rowStride + from, row * rowStride + from + length), row * length);
        } else {
          let write = 0;
          for (let row = 0; row < outer; row += 1) {
            const read = row * rowStride + from;
            for (let index = 0; index < length; index += 1) target[write + index] = source[read + index] as number;
            write += length;
          }
        }
        start += size;
        return output;
      });
    },
  };
}
