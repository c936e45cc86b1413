import {
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropFilterInputs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropInputInputs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

/**
 * Visits every (input pixel, filter tap, output pixel) triple of an NHWC depthwise convolution,
 * handing the flat offsets of x[b, r, c, 0], filter[p, q, 0, 0] and dy[b, i, j, 0] to `visit`.
 */
function forEachTap(info: backend_util.Conv2DInfo, visit: (xOffset: number, filterOffset: number, dyOffset: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const dyOffset = ((b * outHeight + i) * outWidth + j) * outChannels;
        for (let p = 0; p < filterHeight; p++) {
          const row = i * strideHeight + p * dilationHeight - top;
          if (row < 0 || row >= inHeight) continue;
          for (let q = 0; q < filterWidth; q++) {
            const column = j * strideWidth + q * dilationWidth - left;
            if (column < 0 || column >= inWidth) continue;
            visit(((b * inHeight + row) * inWidth + column) * inChannels, (p * filterWidth + q) * outChannels, dyOffset);
          }
        }
      }
    }
  }
}

/**
 * The filter gradient of a depthwise 2-D convolution (NHWC) in one host-side pass:
 * dW[p, q, c, m] = sum_{b,i,j} x[b, i*s + p*d - top, j*s + q*d - left, c] * dy[b, i, j, c*M + m].
 */
export function depthwiseConv2dBackpropFilterOnHost(
  inputs: DepthwiseConv2dNativeBackpropFilterInputs,
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs,
  backend: KernelBackend,
): TensorInfo {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) throw new Error('DepthwiseConv2dNativeBackpropFilter needs inputs x and dy');
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const xValues = backend.readSync(x.dataId) as Float32Array;
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const channels = info.inChannels;
  const multiplier = info.outChannels / channels;
  const sums = new Float64Array(filterShape.reduce((size, axis) => size * axis, 1));
  forEachTap(info, (xOffset, filterOffset, dyOffset) => {
    for (let c = 0; c < channels; c++) {
      const value = xValues[xOffset + c] as number;
      const first = c * multiplier;
      for (let m = 0; m < multiplier; m++) {
        sums[filterOffset + first + m] = (sums[filterOffset + first + m] as number) + value * (dyValues[dyOffset + first + m] as number);
      }
    }
  });
  const shape = [...filterShape];
  return { dataId: backend.write(Float32Array.from(sums), shape, 'float32'), shape, dtype: 'float32' };
}

/**
 * The input gradient of a depthwise 2-D convolution (NHWC) in one host-side pass:
 * dx[b, i*s + p*d - top, j*s + q*d - left, c] += sum_m dy[b, i, j, c*M + m] * W[p, q, c, m].
 */
export function depthwiseConv2dBackpropInputOnHost(
  inputs: DepthwiseConv2dNativeBackpropInputInputs,
  attrs: DepthwiseConv2dNativeBackpropInputAttrs,
  backend: KernelBackend,
): TensorInfo {
  const { dy, filter } = inputs;
  if (dy === undefined || filter === undefined) throw new Error('DepthwiseConv2dNativeBackpropInput needs inputs dy and filter');
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, dilations, pad, dimRoundingMode, true);
  const filterValues = backend.readSync(filter.dataId) as Float32Array;
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const channels = info.inChannels;
  const multiplier = info.outChannels / channels;
  const dx = new Float32Array(inputShape.reduce((size, axis) => size * axis, 1));
  forEachTap(info, (xOffset, filterOffset, dyOffset) => {
    for (let c = 0; c < channels; c++) {
      const first = c * multiplier;
      let sum = 0;
      for (let m = 0; m < multiplier; m++) {
        sum += (filterValues[filterOffset + first + m] as number) * (dyValues[dyOffset + first + m] as number);
      }
      dx[xOffset + c] = (dx[xOffset + c] as number) + sum;
    }
  });
  const shape = [...inputShape];
  return { dataId: backend.write(dx, shape, 'float32'), shape, dtype: 'float32' };
}

/** The kernel config of `depthwiseConv2dBackpropFilterOnHost` for one backend. */
export function depthwiseConv2dBackpropFilterKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    depthwiseConv2dBackpropFilterOnHost(
      inputs as DepthwiseConv2dNativeBackpropFilterInputs,
      attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs,
      backend as KernelBackend,
    );
  return { kernelName: DepthwiseConv2dNativeBackpropFilter, backendName, kernelFunc };
}

/** The kernel config of `depthwiseConv2dBackpropInputOnHost` for one backend. */
export function depthwiseConv2dBackpropInputKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    depthwiseConv2dBackpropInputOnHost(
      inputs as DepthwiseConv2dNativeBackpropInputInputs,
      attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs,
      backend as KernelBackend,
    );
  return { kernelName: DepthwiseConv2dNativeBackpropInput, backendName, kernelFunc };
}
