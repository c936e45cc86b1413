import {
  UnsortedSegmentSum,
  util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  type UnsortedSegmentSumAttrs,
  type UnsortedSegmentSumInputs,
} from '@tensorflow/tfjs-core';

/**
 * UnsortedSegmentSum (TensorFlow's op; the gradient of `tf.gather`, so embedding training) in one
 * host-side pass: out[segmentIds[i], ...] += x[i, ...], ids outside [0, numSegments) dropped.
 */
export function unsortedSegmentSumOnHost(inputs: UnsortedSegmentSumInputs, attrs: UnsortedSegmentSumAttrs, backend: KernelBackend): TensorInfo {
  const { x, segmentIds } = inputs;
  if (x === undefined || segmentIds === undefined) {
    throw new Error('UnsortedSegmentSum needs inputs x and segmentIds');
  }
  const { numSegments } = attrs;
  const ids = backend.readSync(segmentIds.dataId) as ArrayLike<number>;
  const values = backend.readSync(x.dataId) as ArrayLike<number>;
  const segmentRank = segmentIds.shape.length;
  // 1. x is [ids..., rest...]: each id owns a contiguous run of `rowSize` values.
  const rowSize = util.sizeFromShape(x.shape.slice(segmentRank));
  const outShape = [numSegments, ...x.shape.slice(segmentRank)];
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row] ?? -1;
    if (segment < 0 || segment >= numSegments) continue;
    const source = row * rowSize;
    const target = segment * rowSize;
    for (let k = 0; k < rowSize; k++) out[target + k] = (out[target + k] ?? 0) + (values[source + k] ?? 0);
  }
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  return { dataId: backend.write(out, outShape, dtype), shape: outShape, dtype };
}

/** The kernel config of `unsortedSegmentSumOnHost` for one backend ('cpu' or 'wasm'). */
export function unsortedSegmentSumKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    unsortedSegmentSumOnHost(inputs as UnsortedSegmentSumInputs, attrs as unknown as UnsortedSegmentSumAttrs, backend as KernelBackend);
  return { kernelName: UnsortedSegmentSum, backendName, kernelFunc };
}
