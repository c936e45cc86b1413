import {
  Conv2D,
  Conv2DBackpropFilter,
  Fill,
  Slice,
  Transpose,
  backend_util,
  util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { callKernel, disposeIntermediates } from './kernel-calls.js';

type Shape4 = [number, number, number, number];

/**
 * The filter gradient of a 2-D convolution computed as one forward convolution over transposed
 * tensors (the "weight gradient as convolution" identity of backpropagation, e.g. Dumoulin & Visin,
 * "A guide to convolution arithmetic", 2016): x becomes a batch of Cin single images
 * [Cin, H, W, B], dy becomes the filter [Ho, Wo, B, Cout], the forward stride becomes a dilation,
 * and the forward padding becomes explicit padding.
 */
export function conv2dBackpropFilterAsConvolution(
  inputs: Conv2DBackpropFilterInputs,
  attrs: Conv2DBackpropFilterAttrs,
  backend: KernelBackend,
  backendName: string,
): TensorInfo {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) {
    throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const channelsLast = backend_util.convertConv2DDataFormat(dataFormat) === 'channelsLast';
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    channelsLast ? 'channelsLast' : 'channelsFirst',
  );
  const { batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const [, dyHeight, dyWidth] = channelsLast ? dy.shape : [dy.shape[0], dy.shape[2], dy.shape[3]];
  const outHeight = dyHeight ?? 0;
  const outWidth = dyWidth ?? 0;

  if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) {
    return callKernel(Fill, backendName, backend, {}, { shape: filterShape, value: 0, dtype: 'float32' });
  }

  const intermediates: TensorInfo[] = [];
  try {
    // 1. Rows of the padded input that some filter tap reads: (kh - 1) + s * (Ho - 1) + 1.
    const paddedRowsRead = filterHeight + strideHeight * (outHeight - 1);
    const paddedColsRead = filterWidth + strideWidth * (outWidth - 1);
    // 2. Input rows actually read (at least one, so the convolution below has an input).
    const rowsUsed = Math.min(inHeight, Math.max(1, paddedRowsRead - top));
    const colsUsed = Math.min(inWidth, Math.max(1, paddedColsRead - left));
    const bottom = Math.max(0, paddedRowsRead - top - rowsUsed);
    const right = Math.max(0, paddedColsRead - left - colsUsed);

    // 3. Drop input rows/columns no tap reads (stride 2 with an uneven remainder, 'valid' padding).
    let xUsed: TensorInfo = x;
    if (rowsUsed < inHeight || colsUsed < inWidth) {
      const size = channelsLast ? [batchSize, rowsUsed, colsUsed, inChannels] : [batchSize, inChannels, rowsUsed, colsUsed];
      xUsed = callKernel(Slice, backendName, backend, { x }, { begin: [0, 0, 0, 0], size });
      intermediates.push(xUsed);
    }

    // 4. x -> [Cin, H, W, B]: a batch of Cin images with B channels.
    const xImages = callKernel(Transpose, backendName, backend, { x: xUsed }, { perm: channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0] });
    intermediates.push(xImages);
    // 5. dy -> [Ho, Wo, B, Cout]: a filter with B input and Cout output channels.
    const dyFilter = callKernel(Transpose, backendName, backend, { x: dy }, { perm: channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1] });
    intermediates.push(dyFilter);

    // 6. dW[p, q, ci, co] = sum_{b,i,j} xpad[b, p + s*i, q + s*j, ci] * dy[b, i, j, co]: a stride-1
    //    convolution dilated by the forward stride, over the explicitly padded input.
    const convolved = callKernel(
      Conv2D,
      backendName,
      backend,
      { x: xImages, filter: dyFilter },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
      },
    );
    intermediates.push(convolved);

    // 7. Keep the kh x kw taps (clamping rowsUsed to >= 1 above can leave extra rows).
    let taps = convolved;
    if (convolved.shape[1] !== filterHeight || convolved.shape[2] !== filterWidth) {
      taps = callKernel(
        Slice,
        backendName,
        backend,
        { x: convolved },
        {
          begin: [0, 0, 0, 0],
          size: [inChannels, filterHeight, filterWidth, outChannels],
        },
      );
      intermediates.push(taps);
    }

    // 8. [Cin, kh, kw, Cout] -> [kh, kw, Cin, Cout].
    return callKernel(Transpose, backendName, backend, { x: taps }, { perm: [1, 2, 0, 3] });
  } finally {
    disposeIntermediates(backend, intermediates);
  }
}

/** The kernel config of `conv2dBackpropFilterAsConvolution` for one backend ('cpu' or 'wasm'). */
export function conv2dBackpropFilterKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    conv2dBackpropFilterAsConvolution(
      inputs as Conv2DBackpropFilterInputs,
      attrs as unknown as Conv2DBackpropFilterAttrs,
      backend as KernelBackend,
      backendName,
    );
  return { kernelName: Conv2DBackpropFilter, backendName, kernelFunc };
}
