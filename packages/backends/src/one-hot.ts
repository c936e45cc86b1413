import { OneHot, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * OneHot for wasm that honours `dtype`: tfjs-backend-wasm 4.22 writes int32 values into the output
 * whatever its dtype, so tf.oneHot(labels, n, 1, 0, 'float32') reads back as denormal garbage
 * (2.8e-45 for 1) and every cross-entropy built on it is 0 (classifier training and guidance).
 */
export function oneHotKernel(backendName: string): KernelConfig {
  return {
    kernelName: OneHot,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const wasm = backend as unknown as WasmHeapBackend;
      const indices = inputs['indices'] as TensorInfo;
      const { dtype, depth, onValue, offValue } = attrs as unknown as { dtype: string; depth: number; onValue: number; offValue: number };
      const output = wasm.makeOutput([...indices.shape, depth], dtype);
      const source = wasm.typedArrayFromHeap(indices);
      const target = wasm.typedArrayFromHeap(output);
      target.fill(offValue);
      for (let position = 0; position < source.length; position += 1) {
        const index = source[position] as number;
        if (index >= 0 && index < depth) target[position * depth + index] = onValue;
      }
      return output;
    },
  };
}
