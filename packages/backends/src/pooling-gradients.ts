import {
  AvgPoolGrad,
  MaxPoolGrad,
  ResizeBilinearGrad,
  ResizeNearestNeighborGrad,
  backend_util,
  type AvgPoolGradAttrs,
  type AvgPoolGradInputs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type ResizeBilinearGradAttrs,
  type ResizeBilinearGradInputs,
  type ResizeNearestNeighborGradAttrs,
  type ResizeNearestNeighborGradInputs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

/** The source index that tfjs's nearest-neighbour resize reads for output index `index` along one axis. */
function nearestSource(index: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const effectiveIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effectiveOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effectiveIn / effectiveOut;
  const fraction = halfPixelCenters ? ratio * (index + 0.5) : ratio * index;
  const nearest = Math.min(inSize - 1, alignCorners ? Math.round(fraction) : Math.floor(fraction));
  return halfPixelCenters ? Math.max(0, nearest) : nearest;
}

/**
 * The gradient of nearest-neighbour resizing (NHWC) as the exact adjoint of the forward pass:
 * every dy pixel is added to the input pixel the forward pass copied it from. (tfjs-backend-cpu
 * 4.22's own kernel reads dy at the wrong offset for batch > 1.)
 */
export function resizeNearestNeighborGradOnHost(
  inputs: ResizeNearestNeighborGradInputs,
  attrs: ResizeNearestNeighborGradAttrs,
  backend: KernelBackend,
): TensorInfo {
  const { images, dy } = inputs;
  if (images === undefined || dy === undefined) throw new Error('ResizeNearestNeighborGrad needs inputs images and dy');
  const { alignCorners, halfPixelCenters } = attrs;
  const [batch, inHeight, inWidth, channels] = images.shape as Shape4;
  const [, outHeight, outWidth] = dy.shape as Shape4;
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(batch * inHeight * inWidth * channels);
  const rows = Array.from({ length: outHeight }, (_, r) => nearestSource(r, inHeight, outHeight, alignCorners, halfPixelCenters));
  const columns = Array.from({ length: outWidth }, (_, c) => nearestSource(c, inWidth, outWidth, alignCorners, halfPixelCenters));
  let dyOffset = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outHeight; r++) {
      const rowOffset = (b * inHeight + (rows[r] as number)) * inWidth;
      for (let c = 0; c < outWidth; c++) {
        const dxOffset = (rowOffset + (columns[c] as number)) * channels;
        for (let d = 0; d < channels; d++) dx[dxOffset + d] = (dx[dxOffset + d] as number) + (dyValues[dyOffset++] as number);
      }
    }
  }
  const shape = [...images.shape];
  return { dataId: backend.write(dx, shape, 'float32'), shape, dtype: 'float32' };
}

/**
 * The gradient of 2-D max pooling (NHWC): each dy pixel goes to the first largest input in its
 * window, as tfjs-backend-cpu does. (tfjs-backend-wasm 4.22's own kernel gives wrong results.)
 */
export function maxPoolGradOnHost(inputs: MaxPoolGradInputs, attrs: MaxPoolGradAttrs, backend: KernelBackend): TensorInfo {
  const { dy, input } = inputs;
  if (dy === undefined || input === undefined) throw new Error('MaxPoolGrad needs inputs dy and input');
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const { top, left } = info.padInfo;
  const xValues = backend.readSync(input.dataId) as Float32Array;
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(xValues.length);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < outHeight; i++) {
      const rowStart = i * strideHeight - top;
      for (let j = 0; j < outWidth; j++) {
        const columnStart = j * strideWidth - left;
        const dyOffset = ((b * outHeight + i) * outWidth + j) * inChannels;
        for (let d = 0; d < inChannels; d++) {
          let best = Number.NEGATIVE_INFINITY;
          let bestOffset = -1;
          for (let p = 0; p < effectiveFilterHeight; p += dilationHeight) {
            const row = rowStart + p;
            if (row < 0 || row >= inHeight) continue;
            for (let q = 0; q < effectiveFilterWidth; q += dilationWidth) {
              const column = columnStart + q;
              if (column < 0 || column >= inWidth) continue;
              const offset = ((b * inHeight + row) * inWidth + column) * inChannels + d;
              const value = xValues[offset] as number;
              if (value > best) {
                best = value;
                bestOffset = offset;
              }
            }
          }
          if (bestOffset >= 0) dx[bestOffset] = (dx[bestOffset] as number) + (dyValues[dyOffset + d] as number);
        }
      }
    }
  }
  const shape = [...input.shape];
  return { dataId: backend.write(dx, shape, 'float32'), shape, dtype: 'float32' };
}

/**
 * The gradient of 2-D average pooling (NHWC) as the adjoint of tfjs's forward pass, which averages
 * over the window's pixels inside the image: each dy pixel is spread over those, divided by their
 * count. (tfjs 4.22's own kernels divide by the full window size, wrong at 'same' borders.)
 */
export function avgPoolGradOnHost(inputs: AvgPoolGradInputs, attrs: AvgPoolGradAttrs, backend: KernelBackend): TensorInfo {
  const { dy, input } = inputs;
  if (dy === undefined || input === undefined) throw new Error('AvgPoolGrad needs inputs dy and input');
  const { filterSize, strides, pad } = attrs;
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const { top, left } = info.padInfo;
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(batchSize * inHeight * inWidth * inChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < outHeight; i++) {
      // 1. The window's rows and columns inside the image (the forward pass averages over these).
      const rowStart = i * strideHeight - top;
      const firstRow = rowStart < 0 ? rowStart + Math.ceil(-rowStart / dilationHeight) * dilationHeight : rowStart;
      const rowEnd = Math.min(inHeight, rowStart + effectiveFilterHeight);
      for (let j = 0; j < outWidth; j++) {
        const columnStart = j * strideWidth - left;
        const firstColumn = columnStart < 0 ? columnStart + Math.ceil(-columnStart / dilationWidth) * dilationWidth : columnStart;
        const columnEnd = Math.min(inWidth, columnStart + effectiveFilterWidth);
        const rows = Math.max(0, Math.ceil((rowEnd - firstRow) / dilationHeight));
        const columns = Math.max(0, Math.ceil((columnEnd - firstColumn) / dilationWidth));
        if (rows === 0 || columns === 0) continue;
        const scale = 1 / (rows * columns);
        const dyOffset = ((b * outHeight + i) * outWidth + j) * inChannels;
        // 2. Spread dy / count over them.
        for (let row = firstRow; row < rowEnd; row += dilationHeight) {
          for (let column = firstColumn; column < columnEnd; column += dilationWidth) {
            const dxOffset = ((b * inHeight + row) * inWidth + column) * inChannels;
            for (let d = 0; d < inChannels; d++) {
              dx[dxOffset + d] = (dx[dxOffset + d] as number) + (dyValues[dyOffset + d] as number) * scale;
            }
          }
        }
      }
    }
  }
  const shape = [...input.shape];
  return { dataId: backend.write(dx, shape, 'float32'), shape, dtype: 'float32' };
}

/** Bilinear source coordinate of output index `index` along one axis, as tfjs's forward resize computes it. */
function bilinearSource(
  index: number,
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): { floor: number; ceil: number; fraction: number } {
  const effectiveIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effectiveOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effectiveIn / effectiveOut;
  const source = halfPixelCenters ? ratio * (index + 0.5) - 0.5 : ratio * index;
  const floor = Math.max(0, Math.floor(source));
  return { floor, ceil: Math.min(inSize - 1, Math.ceil(source)), fraction: source - floor };
}

/**
 * The gradient of bilinear resizing (NHWC) as the exact adjoint of tfjs's forward pass: each dy
 * pixel goes to its four source pixels with the interpolation weights. (tfjs 4.22's own kernels
 * ignore halfPixelCenters.)
 */
export function resizeBilinearGradOnHost(inputs: ResizeBilinearGradInputs, attrs: ResizeBilinearGradAttrs, backend: KernelBackend): TensorInfo {
  const { images, dy } = inputs;
  if (images === undefined || dy === undefined) throw new Error('ResizeBilinearGrad needs inputs images and dy');
  const { alignCorners, halfPixelCenters } = attrs;
  const [batch, inHeight, inWidth, channels] = images.shape as Shape4;
  const [, outHeight, outWidth] = dy.shape as Shape4;
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(batch * inHeight * inWidth * channels);
  const rows = Array.from({ length: outHeight }, (_, r) => bilinearSource(r, inHeight, outHeight, alignCorners, halfPixelCenters));
  // Per output column: the two source columns (as offsets within a row) and their weights.
  const leftOffsets = new Int32Array(outWidth);
  const rightOffsets = new Int32Array(outWidth);
  const rightWeights = new Float32Array(outWidth);
  for (let c = 0; c < outWidth; c++) {
    const column = bilinearSource(c, inWidth, outWidth, alignCorners, halfPixelCenters);
    leftOffsets[c] = column.floor * channels;
    rightOffsets[c] = column.ceil * channels;
    rightWeights[c] = column.fraction;
  }
  let dyOffset = 0;
  for (let b = 0; b < batch; b++) {
    for (const row of rows) {
      const topOffset = (b * inHeight + row.floor) * inWidth * channels;
      const bottomOffset = (b * inHeight + row.ceil) * inWidth * channels;
      const bottomWeight = row.fraction;
      for (let c = 0; c < outWidth; c++) {
        // out = (1 - r)((1 - c) TL + c TR) + r((1 - c) BL + c BR), so dTL = dy (1 - r)(1 - c), ...
        const right = rightWeights[c] as number;
        const topLeft = topOffset + (leftOffsets[c] as number);
        const topRight = topOffset + (rightOffsets[c] as number);
        const bottomLeft = bottomOffset + (leftOffsets[c] as number);
        const bottomRight = bottomOffset + (rightOffsets[c] as number);
        const weightTopLeft = (1 - bottomWeight) * (1 - right);
        const weightTopRight = (1 - bottomWeight) * right;
        const weightBottomLeft = bottomWeight * (1 - right);
        const weightBottomRight = bottomWeight * right;
        for (let d = 0; d < channels; d++) {
          const gradient = dyValues[dyOffset++] as number;
          dx[topLeft + d] = (dx[topLeft + d] as number) + gradient * weightTopLeft;
          dx[topRight + d] = (dx[topRight + d] as number) + gradient * weightTopRight;
          dx[bottomLeft + d] = (dx[bottomLeft + d] as number) + gradient * weightBottomLeft;
          dx[bottomRight + d] = (dx[bottomRight + d] as number) + gradient * weightBottomRight;
        }
      }
    }
  }
  const shape = [...images.shape];
  return { dataId: backend.write(dx, shape, 'float32'), shape, dtype: 'float32' };
}

/** The kernel config of `avgPoolGradOnHost` for one backend. */
export function avgPoolGradKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    avgPoolGradOnHost(inputs as AvgPoolGradInputs, attrs as unknown as AvgPoolGradAttrs, backend as KernelBackend);
  return { kernelName: AvgPoolGrad, backendName, kernelFunc };
}

/**
 * The kernel config of `resizeBilinearGradOnHost` for one backend; given the kernel it replaces,
 * it leaves the cases that kernel gets right (no halfPixelCenters) to it, as it is faster.
 */
export function resizeBilinearGradKernel(backendName: string, replaced?: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const attrs = args.attrs as unknown as ResizeBilinearGradAttrs;
    if (replaced !== undefined && !attrs.halfPixelCenters) return replaced.kernelFunc(args);
    return resizeBilinearGradOnHost(args.inputs as ResizeBilinearGradInputs, attrs, args.backend as KernelBackend);
  };
  return { kernelName: ResizeBilinearGrad, backendName, kernelFunc };
}

/** The kernel config of `resizeNearestNeighborGradOnHost` for one backend. */
export function resizeNearestNeighborGradKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    resizeNearestNeighborGradOnHost(
      inputs as ResizeNearestNeighborGradInputs,
      attrs as unknown as ResizeNearestNeighborGradAttrs,
      backend as KernelBackend,
    );
  return { kernelName: ResizeNearestNeighborGrad, backendName, kernelFunc };
}

/** The kernel config of `maxPoolGradOnHost` for one backend. */
export function maxPoolGradKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    maxPoolGradOnHost(inputs as MaxPoolGradInputs, attrs as unknown as MaxPoolGradAttrs, backend as KernelBackend);
  return { kernelName: MaxPoolGrad, backendName, kernelFunc };
}
