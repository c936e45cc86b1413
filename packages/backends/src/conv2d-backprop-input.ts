import {
  Conv2D,
  Conv2DBackpropInput,
  Fill,
  PadV2,
  Reshape,
  Reverse,
  Slice,
  Transpose,
  backend_util,
  util,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { callKernel, disposeIntermediates } from './kernel-calls.js';

type Shape4 = [number, number, number, number];

/**
 * The input gradient of a 2-D convolution (also the forward pass of conv2dTranspose) as one
 * forward convolution: dy upsampled by the stride with zeros, padded by (k - 1 - pad), convolved
 * with the spatially flipped filter whose in/out channels are swapped (Dumoulin & Visin, "A guide
 * to convolution arithmetic", 2016, section 4).
 */
export function conv2dBackpropInputAsConvolution(
  inputs: Conv2DBackpropInputInputs,
  attrs: Conv2DBackpropInputAttrs,
  backend: KernelBackend,
  backendName: string,
): TensorInfo {
  const { dy, filter } = inputs;
  if (dy === undefined || filter === undefined) throw new Error('Conv2DBackpropInput needs inputs dy and filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const channelsLast = backend_util.convertConv2DDataFormat(dataFormat) === 'channelsLast';
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    channelsLast ? 'channelsLast' : 'channelsFirst',
  );
  const { batchSize, inHeight, inWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const zeros = (): TensorInfo => callKernel(Fill, backendName, backend, {}, { shape: [...inputShape], value: 0, dtype: 'float32' });
  if (util.sizeFromShape(dy.shape) === 0 || util.sizeFromShape(inputShape) === 0) return zeros();

  const intermediates: TensorInfo[] = [];
  const keep = (tensor: TensorInfo): TensorInfo => {
    intermediates.push(tensor);
    return tensor;
  };
  try {
    // 1. dy in NHWC: [B, Ho, Wo, Cout].
    let dyImages: TensorInfo = channelsLast ? dy : keep(callKernel(Transpose, backendName, backend, { x: dy }, { perm: [0, 2, 3, 1] }));
    const [, outHeight = 0, outWidth = 0] = dyImages.shape;

    // 2. Upsample by the stride: dy[b, i, j] goes to row i*s, column j*s, zeros between.
    let upHeight = outHeight;
    let upWidth = outWidth;
    if (strideHeight > 1 || strideWidth > 1) {
      const spread = keep(callKernel(Reshape, backendName, backend, { x: dyImages }, { shape: [batchSize, outHeight, 1, outWidth, 1, outChannels] }));
      const padded = keep(
        callKernel(
          PadV2,
          backendName,
          backend,
          { x: spread },
          {
            paddings: [
              [0, 0],
              [0, 0],
              [0, strideHeight - 1],
              [0, 0],
              [0, strideWidth - 1],
              [0, 0],
            ],
            constantValue: 0,
          },
        ),
      );
      upHeight = outHeight * strideHeight;
      upWidth = outWidth * strideWidth;
      dyImages = keep(callKernel(Reshape, backendName, backend, { x: padded }, { shape: [batchSize, upHeight, upWidth, outChannels] }));
    }

    // 3. Padding (k - 1 - pad) before, and after whatever makes the output H x W; a negative
    //    amount crops instead (explicit padding wider than the filter, or unread trailing rows).
    const before = [filterHeight - 1 - top, filterWidth - 1 - left];
    const after = [inHeight - 1 + filterHeight - upHeight - (before[0] ?? 0), inWidth - 1 + filterWidth - upWidth - (before[1] ?? 0)];
    const [cropTop, cropLeft] = before.map((amount) => Math.max(0, -amount)) as [number, number];
    const [cropBottom, cropRight] = after.map((amount) => Math.max(0, -amount)) as [number, number];
    const keptHeight = upHeight - cropTop - cropBottom;
    const keptWidth = upWidth - cropLeft - cropRight;
    if (keptHeight <= 0 || keptWidth <= 0) return zeros();
    if (keptHeight !== upHeight || keptWidth !== upWidth) {
      dyImages = keep(
        callKernel(
          Slice,
          backendName,
          backend,
          { x: dyImages },
          {
            begin: [0, cropTop, cropLeft, 0],
            size: [batchSize, keptHeight, keptWidth, outChannels],
          },
        ),
      );
    }

    // 4. Filter [kh, kw, Cin, Cout] -> flipped in space, channels swapped: [kh, kw, Cout, Cin].
    const flipped = keep(callKernel(Reverse, backendName, backend, { x: filter }, { dims: [0, 1] }));
    const swapped = keep(callKernel(Transpose, backendName, backend, { x: flipped }, { perm: [0, 1, 3, 2] }));

    // 5. dx[b, h, w, ci] = sum_{p,q,co} dyUp[b, h + p - (k-1-top), w + q - (k-1-left), co] * W[k-1-p, k-1-q, ci, co].
    const dx = callKernel(
      Conv2D,
      backendName,
      backend,
      { x: dyImages, filter: swapped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [Math.max(0, before[0] ?? 0), Math.max(0, after[0] ?? 0)],
          [Math.max(0, before[1] ?? 0), Math.max(0, after[1] ?? 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
    if (channelsLast) return dx;
    keep(dx);
    return callKernel(Transpose, backendName, backend, { x: dx }, { perm: [0, 3, 1, 2] });
  } finally {
    disposeIntermediates(backend, intermediates);
  }
}

/** The kernel config of `conv2dBackpropInputAsConvolution` for one backend. */
export function conv2dBackpropInputKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    conv2dBackpropInputAsConvolution(
      inputs as Conv2DBackpropInputInputs,
      attrs as unknown as Conv2DBackpropInputAttrs,
      backend as KernelBackend,
      backendName,
    );
  return { kernelName: Conv2DBackpropInput, backendName, kernelFunc };
}
