/** Float64 reference gradients of NHWC convolutions, written as the plain sums of their definitions. */

export interface ConvolutionGeometry {
  readonly inputShape: readonly [number, number, number, number];
  readonly outHeight: number;
  readonly outWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly top: number;
  readonly left: number;
}

/** Calls visit(xIndex, tapIndex (p*kw+q), dyRowIndex (b,i,j)) for every tap that reads inside x. */
function forEachTap(geometry: ConvolutionGeometry, visit: (xPixel: number, tap: number, dyPixel: number) => void): void {
  const [batch, height, width] = geometry.inputShape;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < geometry.outHeight; i++)
      for (let j = 0; j < geometry.outWidth; j++)
        for (let p = 0; p < geometry.filterHeight; p++)
          for (let q = 0; q < geometry.filterWidth; q++) {
            const row = i * geometry.strideHeight + p - geometry.top;
            const column = j * geometry.strideWidth + q - geometry.left;
            if (row < 0 || row >= height || column < 0 || column >= width) continue;
            visit((b * height + row) * width + column, p * geometry.filterWidth + q, (b * geometry.outHeight + i) * geometry.outWidth + j);
          }
}

/** dW[p, q, ci, co] = sum_{b,i,j} x[b, i*s + p - top, j*s + q - left, ci] * dy[b, i, j, co]. */
export function referenceFilterGradient(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  geometry: ConvolutionGeometry,
  outChannels: number,
): Float64Array {
  const inChannels = geometry.inputShape[3];
  const dw = new Float64Array(geometry.filterHeight * geometry.filterWidth * inChannels * outChannels);
  forEachTap(geometry, (xPixel, tap, dyPixel) => {
    for (let ci = 0; ci < inChannels; ci++)
      for (let co = 0; co < outChannels; co++)
        dw[(tap * inChannels + ci) * outChannels + co]! += x[xPixel * inChannels + ci]! * dy[dyPixel * outChannels + co]!;
  });
  return dw;
}

/** dx[b, i*s + p - top, j*s + q - left, ci] += sum_co dy[b, i, j, co] * W[p, q, ci, co]. */
export function referenceInputGradient(
  dy: ArrayLike<number>,
  filter: ArrayLike<number>,
  geometry: ConvolutionGeometry,
  outChannels: number,
): Float64Array {
  const [batch, height, width, inChannels] = geometry.inputShape;
  const dx = new Float64Array(batch * height * width * inChannels);
  forEachTap(geometry, (xPixel, tap, dyPixel) => {
    for (let ci = 0; ci < inChannels; ci++)
      for (let co = 0; co < outChannels; co++)
        dx[xPixel * inChannels + ci]! += dy[dyPixel * outChannels + co]! * filter[(tap * inChannels + ci) * outChannels + co]!;
  });
  return dx;
}

/** Depthwise: dW[p, q, c, m] = sum_{b,i,j} x[b, i*s + p - top, j*s + q - left, c] * dy[b, i, j, c*M + m]. */
export function referenceDepthwiseFilterGradient(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  geometry: ConvolutionGeometry,
  multiplier: number,
): Float64Array {
  const channels = geometry.inputShape[3];
  const dw = new Float64Array(geometry.filterHeight * geometry.filterWidth * channels * multiplier);
  forEachTap(geometry, (xPixel, tap, dyPixel) => {
    for (let c = 0; c < channels; c++)
      for (let m = 0; m < multiplier; m++)
        dw[(tap * channels + c) * multiplier + m]! += x[xPixel * channels + c]! * dy[dyPixel * channels * multiplier + c * multiplier + m]!;
  });
  return dw;
}

/** Depthwise: dx[b, i*s + p - top, j*s + q - left, c] += sum_m dy[b, i, j, c*M + m] * W[p, q, c, m]. */
export function referenceDepthwiseInputGradient(
  dy: ArrayLike<number>,
  filter: ArrayLike<number>,
  geometry: ConvolutionGeometry,
  multiplier: number,
): Float64Array {
  const [batch, height, width, channels] = geometry.inputShape;
  const dx = new Float64Array(batch * height * width * channels);
  forEachTap(geometry, (xPixel, tap, dyPixel) => {
    for (let c = 0; c < channels; c++)
      for (let m = 0; m < multiplier; m++)
        dx[xPixel * channels + c]! += dy[dyPixel * channels * multiplier + c * multiplier + m]! * filter[(tap * channels + c) * multiplier + m]!;
  });
  return dx;
}

/** Largest |a[i] - b[i]|; throws if the lengths differ. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Deterministic values in [-1, 1) (a linear congruential generator), so tests need no tensor RNG. */
export function pseudoRandom(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}
