import * as tf from '@tensorflow/tfjs-core';
import { TRAINING_KERNEL_NAMES } from '@tfjs-diffusion/backends';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * SplitV for tfjs-backend-wasm as strided block copies on the wasm heap. tfjs 4.22's wasm SplitV
 * slices once per output through the generic Slice kernel, which made the concat gradients of
 * the U-Net's skip connections (split on the channel axis) the slowest kernel of a training step.
 */
function splitV({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const wasm = backend as WasmBackendLike;
  const x = inputs['x'] as tf.TensorInfo;
  const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number[] | number; axis: number | number[] };
  const rank = x.shape.length;
  const splitAxis = tf.util.parseAxisParam(axis, x.shape)[0] as number;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, splitAxis) as number[];
  const outer = x.shape.slice(0, splitAxis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(splitAxis + 1, rank).reduce((a, b) => a * b, 1);
  const axisSize = x.shape[splitAxis] as number;
  const outputs = sizes.map((size) => {
    const shape = [...x.shape];
    shape[splitAxis] = size;
    return wasm.makeOutput(shape, x.dtype);
  });
  // Views after every allocation: growing the heap detaches earlier views.
  const source = wasm.typedArrayFromHeap(x);
  let begin = 0;
  outputs.forEach((output, index) => {
    const size = sizes[index] as number;
    const target = wasm.typedArrayFromHeap(output);
    const block = size * inner;
    for (let row = 0; row < outer; row += 1) {
      const from = (row * axisSize + begin) * inner;
      target.set(source.subarray(from, from + block), row * block);
    }
    begin += size;
  });
  return outputs;
}

/**
 * OneHot for tfjs-backend-wasm that honours `dtype`: tfjs 4.22's wasm kernel writes int32 values
 * into the output whatever its dtype, so tf.oneHot(labels, n, 1, 0, 'float32') reads back as
 * denormal garbage (2.8e-45 for 2) and cross-entropies built on it are 0.
 */
function oneHot({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const indices = inputs['indices'] as tf.TensorInfo;
  const { dtype, depth, onValue, offValue } = attrs as unknown as { dtype: tf.DataType; depth: number; onValue: number; offValue: number };
  const out = wasm.makeOutput([...indices.shape, depth], dtype);
  const source = wasm.typedArrayFromHeap(indices);
  const target = wasm.typedArrayFromHeap(out);
  target.fill(offValue);
  for (let position = 0; position < source.length; position += 1) {
    const index = source[position] as number;
    if (index >= 0 && index < depth) target[position * depth + index] = onValue;
  }
  return out;
}

let registered = false;

/**
 * Replaces wasm's OneHot by the dtype-correct one, and SplitV by block copies unless the backends
 * package already does; idempotent, only when wasm is active.
 */
export function registerFastWasmSplit(): boolean {
  if (registered || tf.getBackend() !== 'wasm') return registered;
  // @tfjs-diffusion/backends registers its own block-copy SplitV among the wasm training kernels
  if (!TRAINING_KERNEL_NAMES.wasm.includes('SplitV')) {
    tf.unregisterKernel('SplitV', 'wasm');
    tf.registerKernel({ kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitV as unknown as tf.KernelFunc });
  }
  tf.unregisterKernel('OneHot', 'wasm');
  tf.registerKernel({ kernelName: 'OneHot', backendName: 'wasm', kernelFunc: oneHot as unknown as tf.KernelFunc });
  registered = true;
  return true;
}
