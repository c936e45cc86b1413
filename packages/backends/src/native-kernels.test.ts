import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  CONV2D_RESIDUAL_KERNEL_NAME,
  GROUP_NORM_KERNEL_NAME,
  NATIVE_KERNEL_NAMES,
  loadNativeKernels,
  type NativeKernelStatus,
} from './native-kernels.js';
import { selectBackend } from './select-backend.js';
import { hasNativeKernels, hasTrainingKernels, registerTrainingKernels } from './training-kernels.js';
import { pseudoRandom } from './test-utils/reference-convolution.js';

// The addon is built by `pnpm build` (native/build.mjs); build it here when the tests run from
// source without a build. Outside CI the tests skip when it cannot be built (no gcc, no OpenBLAS);
// in CI (process.env.CI set) it must be there.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const addonPath = `${packageRoot}dist/native/tfjs-diffusion-native.node`;
if (!existsSync(addonPath) && process.env['TFJS_DIFFUSION_NATIVE'] !== '0') {
  try {
    execFileSync(process.execPath, [`${packageRoot}native/build.mjs`], { stdio: 'ignore' });
  } catch {
    // reported below through the status
  }
}
const status: NativeKernelStatus = await loadNativeKernels();
const inCi = Boolean(process.env['CI']);
const describeNative = status.available || inCi ? describe : describe.skip;

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  readonly name: string;
  readonly x: Shape4;
  readonly filter: [number, number];
  readonly outChannels: number;
  readonly strides: number | [number, number];
  readonly pad: Pad;
  readonly dilations?: number;
}

const convCases: ConvCase[] = [
  { name: '3x3 stride 1 same', x: [2, 5, 5, 3], filter: [3, 3], outChannels: 4, strides: 1, pad: 'same' },
  { name: '3x3 stride 2 same, odd/even sizes', x: [3, 6, 7, 3], filter: [3, 3], outChannels: 5, strides: 2, pad: 'same' },
  { name: '3x3 stride 2 valid, odd size', x: [2, 7, 7, 3], filter: [3, 3], outChannels: 2, strides: 2, pad: 'valid' },
  { name: '3x3 stride 2 valid, unread last row', x: [1, 8, 8, 2], filter: [3, 3], outChannels: 3, strides: 2, pad: 'valid' },
  { name: '1x1 stride 1 valid (one SGEMM)', x: [2, 5, 6, 3], filter: [1, 1], outChannels: 4, strides: 1, pad: 'valid' },
  { name: '1x1 stride 2 same', x: [2, 8, 8, 3], filter: [1, 1], outChannels: 4, strides: 2, pad: 'same' },
  { name: '5x3 strides [2, 1] same', x: [2, 9, 7, 2], filter: [5, 3], outChannels: 3, strides: [2, 1], pad: 'same' },
  { name: '3x3 stride 1 pad 1 (number)', x: [1, 6, 6, 2], filter: [3, 3], outChannels: 2, strides: 1, pad: 1 },
  {
    name: '3x3 stride 2 explicit',
    x: [2, 6, 5, 2],
    filter: [3, 3],
    outChannels: 3,
    strides: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  {
    name: '2x2 explicit wider than the filter',
    x: [1, 5, 5, 2],
    filter: [2, 2],
    outChannels: 2,
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 3],
      [0, 0],
    ],
  },
  { name: '3x3 dilation 2 same', x: [2, 9, 9, 3], filter: [3, 3], outChannels: 4, strides: 1, pad: 'same', dilations: 2 },
  { name: 'U-Net block 3x3, 1 -> 32 channels', x: [4, 16, 16, 1], filter: [3, 3], outChannels: 32, strides: 1, pad: 'same' },
  { name: 'U-Net block 3x3, 64 -> 64 channels, odd size', x: [3, 9, 11, 64], filter: [3, 3], outChannels: 64, strides: 1, pad: 'same' },
  // N = 48, 80, 16, 96: every register-tile width of the AVX-512 SGEMM (and its row remainders)
  { name: 'AVX-512 tiles: 24 -> 48 channels, stride 2', x: [2, 7, 9, 24], filter: [3, 3], outChannels: 48, strides: 2, pad: 'same' },
  { name: 'AVX-512 tiles: 16 -> 80 channels, valid', x: [3, 6, 6, 16], filter: [3, 3], outChannels: 80, strides: 1, pad: 'valid' },
  { name: 'AVX-512 tiles: 96 -> 16 channels, 1x1', x: [2, 5, 7, 96], filter: [1, 1], outChannels: 16, strides: 1, pad: 'valid' },
  // N <= 4 with K >= 64: dot products over K (the U-Net's output convolution), and N % 16 masked tails
  { name: 'narrow: 3x3, 32 -> 2 channels', x: [2, 6, 7, 32], filter: [3, 3], outChannels: 2, strides: 1, pad: 'same' },
  { name: 'narrow: 1x1, 80 -> 1 channel, K not a multiple of 16', x: [3, 4, 5, 83], filter: [1, 1], outChannels: 1, strides: 1, pad: 'valid' },
  { name: 'masked tail: 3x3, 16 -> 21 channels', x: [2, 5, 6, 16], filter: [3, 3], outChannels: 21, strides: 1, pad: 'same' },
  // kh * kw * Cin = 1170 columns: im2col runs in chunks of 896 rows, here 1250 rows
  { name: 'many rows: im2col in chunks', x: [2, 25, 25, 130], filter: [3, 3], outChannels: 7, strides: 1, pad: 'same' },
];

/** max |a - b| / max(1, max |b|): the error relative to the size of the result. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let scale = 1;
  for (let index = 0; index < expected.length; index += 1) {
    worst = Math.max(worst, Math.abs((actual[index] as number) - (expected[index] as number)));
    scale = Math.max(scale, Math.abs(expected[index] as number));
  }
  return worst / scale;
}

function tensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    pseudoRandom(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

/** Every kernel result of one case, run with whatever kernels are registered now. */
function convResults(testCase: ConvCase): Record<string, Float32Array> {
  return tf.tidy(() => {
    const filterShape: Shape4 = [...testCase.filter, testCase.x[3], testCase.outChannels];
    const x = tensor(testCase.x, 1) as tf.Tensor4D;
    const filter = tensor(filterShape, 2) as tf.Tensor4D;
    const bias = tensor([testCase.outChannels], 3) as tf.Tensor1D;
    const dilations = testCase.dilations ?? 1;
    const y = tf.conv2d(x, filter, testCase.strides, testCase.pad as 'same', 'NHWC', dilations);
    const results: Record<string, Float32Array> = {
      conv2d: y.dataSync() as Float32Array,
      fusedRelu: tf.fused
        .conv2d({ x, filter, bias, strides: testCase.strides, pad: testCase.pad as 'same', dilations, activation: 'relu' })
        .dataSync() as Float32Array,
    };
    if (dilations === 1) {
      const dy = tensor(y.shape, 4);
      const attrs = { strides: testCase.strides, pad: testCase.pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
      results['filterGradient'] = (
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape }) as tf.Tensor
      ).dataSync() as Float32Array;
      results['inputGradient'] = (
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: testCase.x }) as tf.Tensor
      ).dataSync() as Float32Array;
    }
    return results;
  });
}

interface MatMulCase {
  readonly name: string;
  readonly a: number[];
  readonly b: number[];
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}
const matMulCases: MatMulCase[] = [
  { name: '2-D', a: [7, 5], b: [5, 9], transposeA: false, transposeB: false },
  { name: '2-D, a transposed', a: [5, 7], b: [5, 9], transposeA: true, transposeB: false },
  { name: '2-D, b transposed', a: [7, 5], b: [9, 5], transposeA: false, transposeB: true },
  { name: '2-D, both transposed', a: [5, 7], b: [9, 5], transposeA: true, transposeB: true },
  { name: 'batch 3 (attention q k^T)', a: [3, 64, 17], b: [3, 64, 17], transposeA: false, transposeB: true },
  { name: 'batch 3, a transposed (a gradient)', a: [3, 33, 10], b: [3, 33, 12], transposeA: true, transposeB: false },
  { name: 'b broadcast over a batch of 4', a: [4, 6, 8], b: [1, 8, 5], transposeA: false, transposeB: false },
  { name: 'b broadcast, transposed', a: [4, 6, 8], b: [5, 8], transposeA: false, transposeB: true },
  { name: 'a broadcast (GroupNorm statistics row)', a: [1, 1, 64], b: [5, 64, 16], transposeA: false, transposeB: false },
  { name: 'rank 4 batch [2, 3]', a: [2, 3, 4, 5], b: [2, 3, 5, 6], transposeA: false, transposeB: false },
  { name: 'N = 48 and 112 (AVX-512 tiles)', a: [2, 29, 40], b: [2, 40, 112], transposeA: false, transposeB: false },
  { name: 'b broadcast, N = 48', a: [3, 13, 40], b: [40, 48], transposeA: false, transposeB: false },
];

interface SumCase {
  readonly name: string;
  readonly shape: number[];
  readonly axis: number | number[];
  readonly keepDims: boolean;
}
const sumCases: SumCase[] = [
  { name: 'bias gradient: over B, H, W', shape: [3, 5, 7, 6], axis: [0, 1, 2], keepDims: false },
  { name: 'innermost axis (long runs)', shape: [4, 1037], axis: -1, keepDims: true },
  { name: 'middle axes', shape: [2, 3, 4, 5], axis: [1, 2], keepDims: false },
  { name: 'all axes', shape: [3, 4, 5], axis: [0, 1, 2], keepDims: false },
  { name: 'non-contiguous axes (falls back)', shape: [2, 3, 4, 5], axis: [0, 2], keepDims: true },
];

function sumResults(testCase: SumCase): Float32Array {
  return tf.tidy(() => tf.sum(tensor(testCase.shape, 12), testCase.axis, testCase.keepDims).dataSync() as Float32Array);
}

/** Concat and SplitV on every axis, float32 and int32, with an empty part. */
function copyResults(): Float32Array[] {
  return tf.tidy(() => {
    const results: Float32Array[] = [];
    const a = tensor([2, 3, 4, 5], 13);
    const b = tensor([2, 3, 4, 7], 14);
    results.push(tf.concat([a, b], 3).dataSync() as Float32Array);
    // ResizeNearestNeighbor: integer factors (native), a non-integer one and alignCorners (fall back), int32
    results.push(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [6, 10]).dataSync() as Float32Array);
    results.push(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [9, 8]).dataSync() as Float32Array);
    results.push(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [5, 7]).dataSync() as Float32Array);
    results.push(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [6, 8], true).dataSync() as Float32Array);
    results.push(Float32Array.from(tf.image.resizeNearestNeighbor(tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 3, 2], 'int32'), [2, 6]).dataSync()));
    results.push(tf.concat([a, tensor([2, 1, 4, 5], 15), a], 1).dataSync() as Float32Array);
    results.push(tf.concat([a, a], 0).dataSync() as Float32Array);
    results.push(tf.concat([a, tf.zeros([2, 3, 0, 5]), a], 2).dataSync() as Float32Array);
    results.push(Float32Array.from(tf.concat([tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6], [2, 1], 'int32')], 1).dataSync()));
    // Slice: columns of a 2-D view (attention's q, k, v), every axis partial, size -1, whole, empty, rank 1, int32
    const wide = tensor([40, 24], 16);
    for (const [begin, size] of [
      [
        [0, 8],
        [-1, 8],
      ],
      [
        [3, 0],
        [5, 24],
      ],
      [
        [0, 0],
        [40, 24],
      ],
      [
        [2, 5],
        [0, 3],
      ],
    ] as const) {
      results.push(tf.slice(wide, [...begin], [...size]).dataSync() as Float32Array);
    }
    results.push(tf.slice(a, [1, 1, 1, 2], [1, 2, 3, 2]).dataSync() as Float32Array);
    results.push(tf.slice(a, [0, 2, 0, 0], [2, 1, -1, -1]).dataSync() as Float32Array);
    results.push(tf.slice(a, [1, 0, 2, 0], [1, -1, 1, 5]).dataSync() as Float32Array);
    results.push(tf.slice(tf.range(0, 10), [3], [4]).dataSync() as Float32Array);
    results.push(Float32Array.from(tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]).dataSync()));
    for (const [axis, sizes] of [
      [3, [2, 3]],
      [1, [1, 2]],
      [0, [1, 1]],
      [2, [0, 3, 1]],
    ] as const) {
      for (const part of tf.split(a, [...sizes], axis)) results.push(part.dataSync() as Float32Array);
    }
    for (const part of tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [1, 2], 1)) results.push(Float32Array.from(part.dataSync()));
    return results;
  });
}

/** Sigmoid over [-30, 30] (an odd length: the AVX-512 loop's masked tail) and at the extremes. */
function sigmoidResults(): Float32Array {
  return tf.tidy(() => {
    const x = tf.concat([tf.linspace(-30, 30, 1001), tf.tensor1d([-200, -88, 0, 88, 200])]);
    return tf.sigmoid(x).dataSync() as Float32Array;
  });
}

/** Softmax over the last axis: attention-sized rows, a masked tail, large logits, one long row. */
function softmaxResults(): Float32Array[] {
  return tf.tidy(() => [
    tf.softmax(tf.mul(tensor([3, 7, 256], 17), 8)).dataSync() as Float32Array,
    tf.softmax(tf.mul(tensor([5, 17], 18), 100)).dataSync() as Float32Array,
    tf.softmax(tf.tensor2d([80, -80, 0, 1e-3, 88, 87.9], [2, 3])).dataSync() as Float32Array,
    tf.softmax(tensor([1, 3000], 19)).dataSync() as Float32Array,
  ]);
}

function matMulResults(testCase: MatMulCase): Float32Array {
  return tf.tidy(() => tf.matMul(tensor(testCase.a, 5), tensor(testCase.b, 6), testCase.transposeA, testCase.transposeB).dataSync() as Float32Array);
}

for (const backendName of ['wasm', 'cpu'] as const) {
  describeNative(`native kernels on ${backendName}`, () => {
    const convNative: Record<string, Float32Array>[] = [];
    const convReference: Record<string, Float32Array>[] = [];
    const matMulNative: Float32Array[] = [];
    const matMulReference: Float32Array[] = [];
    const sumNative: Float32Array[] = [];
    const sumReference: Float32Array[] = [];
    let copyNative: Float32Array[] = [];
    let copyReference: Float32Array[] = [];
    let sigmoidNative: Float32Array = new Float32Array();
    let sigmoidReference: Float32Array = new Float32Array();
    let softmaxNative: Float32Array[] = [];
    let softmaxReference: Float32Array[] = [];

    beforeAll(async () => {
      const choice = await selectBackend(backendName);
      expect(choice.reason).toContain(`native OpenBLAS kernels: ${NATIVE_KERNEL_NAMES.join(', ')}`);
      expect(hasNativeKernels(backendName)).toBe(true);
      for (const testCase of convCases) convNative.push(convResults(testCase));
      for (const testCase of matMulCases) matMulNative.push(matMulResults(testCase));
      for (const testCase of sumCases) sumNative.push(sumResults(testCase));
      copyNative = copyResults();
      sigmoidNative = sigmoidResults();
      softmaxNative = softmaxResults();
      // the same cases with this package's JavaScript/wasm kernels and tfjs's
      registerTrainingKernels(backendName, { native: false });
      expect(hasNativeKernels(backendName)).toBe(false);
      expect(hasTrainingKernels(backendName)).toBe(true);
      for (const testCase of convCases) convReference.push(convResults(testCase));
      for (const testCase of matMulCases) matMulReference.push(matMulResults(testCase));
      for (const testCase of sumCases) sumReference.push(sumResults(testCase));
      copyReference = copyResults();
      sigmoidReference = sigmoidResults();
      softmaxReference = softmaxResults();
      registerTrainingKernels(backendName);
      expect(hasNativeKernels(backendName)).toBe(true);
    });

    it.each(convCases.map((testCase, index) => [testCase.name, index] as const))('convolution: %s', (_, index) => {
      const native = convNative[index] as Record<string, Float32Array>;
      const reference = convReference[index] as Record<string, Float32Array>;
      expect(Object.keys(native)).toEqual(Object.keys(reference));
      for (const kernel of Object.keys(reference)) {
        expect({ kernel, error: relativeError(native[kernel] as Float32Array, reference[kernel] as Float32Array) < 1e-4 }).toEqual({
          kernel,
          error: true,
        });
      }
    });

    it.each(matMulCases.map((testCase, index) => [testCase.name, index] as const))('BatchMatMul: %s', (_, index) => {
      expect(relativeError(matMulNative[index] as Float32Array, matMulReference[index] as Float32Array)).toBeLessThan(1e-4);
    });

    it.each(sumCases.map((testCase, index) => [testCase.name, index] as const))('Sum: %s', (_, index) => {
      expect(relativeError(sumNative[index] as Float32Array, sumReference[index] as Float32Array)).toBeLessThan(1e-5);
    });

    it('Concat, SplitV, Slice and ResizeNearestNeighbor copy exactly, on every axis, float32 and int32', () => {
      expect(copyNative.length).toBe(copyReference.length);
      copyNative.forEach((values, index) => expect(Array.from(values)).toEqual(Array.from(copyReference[index] as Float32Array)));
    });

    it('Softmax matches to 1e-6 and each row sums to 1', () => {
      expect(softmaxNative.length).toBe(softmaxReference.length);
      softmaxNative.forEach((values, index) => {
        const reference = softmaxReference[index] as Float32Array;
        expect(values.length).toBe(reference.length);
        let worst = 0;
        values.forEach((value, position) => (worst = Math.max(worst, Math.abs(value - (reference[position] as number)))));
        expect(worst).toBeLessThan(1e-6);
      });
      const rows = softmaxNative[0] as Float32Array;
      for (let row = 0; row < 21; row += 1)
        expect(Math.abs(rows.subarray(row * 256, (row + 1) * 256).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    });

    it('Sigmoid matches to 1e-6', () => {
      expect(sigmoidNative.length).toBe(sigmoidReference.length);
      let worst = 0;
      sigmoidNative.forEach((value, index) => (worst = Math.max(worst, Math.abs(value - (sigmoidReference[index] as number)))));
      expect(worst).toBeLessThan(1e-6);
    });

    it('Sum keeps the shape tfjs gives, and int32 sums fall back', () => {
      expect(tf.tidy(() => tf.sum(tf.ones([2, 3, 4]), [0, 1], true).shape)).toEqual([1, 1, 4]);
      expect(tf.tidy(() => tf.sum(tf.ones([2, 3, 4]), [1, 2]).shape)).toEqual([2]);
      expect(tf.tidy(() => Array.from(tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0).dataSync()))).toEqual([4, 6]);
    });

    it('falls back on the replaced kernel for NCHW and PReLU, with the same results', () => {
      const [native, reference] = [true, false].map((native) => {
        registerTrainingKernels(backendName, { native });
        return tf.tidy(() => {
          const x = tensor([2, 6, 6, 3], 7) as tf.Tensor4D;
          const filter = tensor([3, 3, 3, 4], 8) as tf.Tensor4D;
          const prelu = tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: tf.scalar(0.1) });
          const dy = tensor([2, 4, 6, 6], 9);
          const nchw = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.transpose(x, [0, 3, 1, 2]), dy }, {
            strides: 1,
            pad: 'same',
            dataFormat: 'NCHW',
            filterShape: [3, 3, 3, 4],
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
          return [prelu.dataSync() as Float32Array, nchw.dataSync() as Float32Array];
        });
      });
      registerTrainingKernels(backendName);
      for (const [index, values] of (native as Float32Array[]).entries()) {
        expect(relativeError(values, (reference as Float32Array[])[index] as Float32Array)).toBeLessThan(1e-4);
      }
    });

    it('leaves no tensors or backend data behind, in a gradient step too', () => {
      const x = tensor([2, 8, 8, 4], 10) as tf.Tensor4D;
      const filter = tf.variable(tensor([3, 3, 4, 6], 11) as tf.Tensor4D);
      const run = () =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, filter, 2, 'same'))) as tf.Scalar);
          return [value.dataSync(), Object.values(grads)[0]?.dataSync()];
        });
      run();
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      run();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.engine().backend.numDataIds()).toBe(dataIds);
      tf.dispose([x, filter]);
    });
  });
}

interface GroupNormCase {
  readonly name: string;
  readonly x: [number, number, number, number];
  readonly groups: number;
  readonly gammaPerImage: boolean;
  readonly betaPerImage: boolean;
  readonly activation: 'linear' | 'silu';
  /** added to x: group statistics far from zero (the kernel sums in double) */
  readonly offset: number;
}

const groupNormCases: GroupNormCase[] = [
  {
    name: '12 channels, 4 groups, [C] affine, linear',
    x: [2, 5, 3, 12],
    groups: 4,
    gammaPerImage: false,
    betaPerImage: false,
    activation: 'linear',
    offset: 0,
  },
  {
    name: '48 channels, 8 groups, [B, C] affine, SiLU',
    x: [3, 4, 4, 48],
    groups: 8,
    gammaPerImage: true,
    betaPerImage: true,
    activation: 'silu',
    offset: 0,
  },
  {
    name: '20 channels, 5 groups, mixed affine, SiLU, mean 5',
    x: [2, 6, 6, 20],
    groups: 5,
    gammaPerImage: true,
    betaPerImage: false,
    activation: 'silu',
    offset: 5,
  },
  { name: '32 channels, 1 group, 1x1 image', x: [2, 1, 1, 32], groups: 1, gammaPerImage: false, betaPerImage: true, activation: 'linear', offset: 0 },
];

/** act((x - mean) / sqrt(var + eps) * gamma + beta) per image and group, in float64 (two-pass variance). */
function groupNormReference(
  x: Float32Array,
  shape: readonly number[],
  groups: number,
  gamma: Float32Array,
  beta: Float32Array,
  silu: boolean,
): Float64Array {
  const [batch, height, width, channels] = shape as [number, number, number, number];
  const pixels = height * width;
  const perGroup = channels / groups;
  const out = new Float64Array(x.length);
  for (let b = 0; b < batch; b += 1) {
    for (let g = 0; g < groups; g += 1) {
      let total = 0;
      for (let p = 0; p < pixels; p += 1)
        for (let c = g * perGroup; c < (g + 1) * perGroup; c += 1) total += x[(b * pixels + p) * channels + c] as number;
      const mean = total / (pixels * perGroup);
      let squares = 0;
      for (let p = 0; p < pixels; p += 1)
        for (let c = g * perGroup; c < (g + 1) * perGroup; c += 1)
          squares += (((x[(b * pixels + p) * channels + c] as number) - mean) ** 2) as number;
      const inverse = 1 / Math.sqrt(squares / (pixels * perGroup) + 1e-5);
      for (let p = 0; p < pixels; p += 1) {
        for (let c = g * perGroup; c < (g + 1) * perGroup; c += 1) {
          const index = (b * pixels + p) * channels + c;
          const gammaValue = gamma.length === channels ? (gamma[c] as number) : (gamma[b * channels + c] as number);
          const betaValue = beta.length === channels ? (beta[c] as number) : (beta[b * channels + c] as number);
          const z = ((x[index] as number) - mean) * inverse * gammaValue + betaValue;
          out[index] = silu ? z / (1 + Math.exp(-z)) : z;
        }
      }
    }
  }
  return out;
}

function runGroupNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups: number, activation: string): tf.Tensor {
  return tf
    .engine()
    .runKernel(GROUP_NORM_KERNEL_NAME, { x, gamma, beta }, { groups, epsilon: 1e-5, activation } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

for (const backendName of ['wasm', 'cpu'] as const) {
  describeNative(`fused GroupNorm kernel (${GROUP_NORM_KERNEL_NAME}) on ${backendName}`, () => {
    beforeAll(async () => {
      await selectBackend(backendName);
      registerTrainingKernels(backendName);
    });

    it.each(groupNormCases.map((testCase) => [testCase.name, testCase] as const))('matches a float64 reference to 1e-5: %s', (_, testCase) => {
      if (tf.getKernel(GROUP_NORM_KERNEL_NAME, backendName) === undefined) {
        // registered only on CPUs with AVX-512F (as Sigmoid)
        expect(status.available && status.kernels.includes(GROUP_NORM_KERNEL_NAME)).toBe(false);
        return;
      }
      const [batch, , , channels] = testCase.x;
      const size = testCase.x.reduce((a, b) => a * b, 1);
      const x = pseudoRandom(size, 21).map((value, index) => testCase.offset + value * (1 + (index % 7)) * 0.3);
      const gamma = pseudoRandom((testCase.gammaPerImage ? batch : 1) * channels, 22).map((value) => 1 + value);
      const beta = pseudoRandom((testCase.betaPerImage ? batch : 1) * channels, 23);
      const affineShape = (perImage: boolean): number[] => (perImage ? [batch, channels] : [channels]);
      const before = tf.memory().numTensors;
      const actual = tf.tidy(
        () =>
          runGroupNorm(
            tf.tensor4d(x, testCase.x),
            tf.tensor(gamma, affineShape(testCase.gammaPerImage)),
            tf.tensor(beta, affineShape(testCase.betaPerImage)),
            testCase.groups,
            testCase.activation,
          ).dataSync() as Float32Array,
      );
      expect(tf.memory().numTensors).toBe(before);
      const expected = groupNormReference(x, testCase.x, testCase.groups, gamma, beta, testCase.activation === 'silu');
      let worst = 0;
      expected.forEach((value, index) => (worst = Math.max(worst, Math.abs((actual[index] as number) - value))));
      expect(worst).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(actual, Math.abs))).toBeGreaterThan(0.5);
    });

    it.each(groupNormCases.map((testCase) => [testCase.name, testCase] as const))(
      'its gradient (dx, dgamma, dbeta) matches tf ops within 1e-4: %s',
      (_, testCase) => {
        if (tf.getKernel(GROUP_NORM_KERNEL_NAME, backendName) === undefined) return;
        const [batch, height, width, channels] = testCase.x;
        const size = testCase.x.reduce((a, b) => a * b, 1);
        const silu = testCase.activation === 'silu';
        const x = tf.tensor4d(
          pseudoRandom(size, 31).map((value, index) => testCase.offset + value * (1 + (index % 5)) * 0.4),
          testCase.x,
        );
        const gamma = tf.add(tensor(testCase.gammaPerImage ? [batch, channels] : [channels], 32), 1);
        const beta = tensor(testCase.betaPerImage ? [batch, channels] : [channels], 33);
        const dy = tensor(testCase.x, 34);
        // the same function in tf ops: moments over each image's group, then the affine and SiLU
        const reference = (input: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor): tf.Tensor => {
          const grouped = tf.reshape(input, [batch, height * width, testCase.groups, channels / testCase.groups]);
          const { mean, variance } = tf.moments(grouped, [1, 3], true);
          const normalized = tf.reshape(tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, 1e-5))), testCase.x);
          const affine = (value: tf.Tensor): tf.Tensor => (value.rank === 1 ? value : tf.reshape(value, [batch, 1, 1, channels]));
          const z = tf.add(tf.mul(normalized, affine(scale)), affine(shift));
          return silu ? tf.mul(z, tf.sigmoid(z)) : z;
        };
        const fused = (input: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor): tf.Tensor =>
          runGroupNorm(input, scale, shift, testCase.groups, testCase.activation);
        const before = tf.memory().numTensors;
        const [actual, expected] = [fused, reference].map((f) =>
          tf.tidy(() =>
            tf
              .grads((input: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor) => tf.sum(tf.mul(f(input, scale, shift), dy)))([x, gamma, beta])
              .map((gradient) => gradient.dataSync() as Float32Array),
          ),
        );
        expect(tf.memory().numTensors).toBe(before);
        (expected as Float32Array[]).forEach((values, index) => {
          expect({ index, error: relativeError((actual as Float32Array[])[index] as Float32Array, values) < 1e-4 }).toEqual({ index, error: true });
        });
        expect(Math.max(...Array.from((expected as Float32Array[])[0] as Float32Array, Math.abs))).toBeGreaterThan(1e-3);
        tf.dispose([x, gamma, beta, dy]);
      },
    );

    it('gives an image the same bits alone and in a batch, and refuses groups that do not divide the channels', () => {
      if (tf.getKernel(GROUP_NORM_KERNEL_NAME, backendName) === undefined) return;
      const [alone, batched] = tf.tidy(() => {
        const x = tensor([3, 5, 5, 24], 24);
        const gamma = tf.add(tensor([3, 24], 25), 1);
        const beta = tensor([3, 24], 26);
        const second = (t: tf.Tensor, shape: number[]): tf.Tensor => tf.slice(t, [1, ...shape.map(() => 0)], [1, ...shape]);
        return [
          runGroupNorm(second(x, [5, 5, 24]), second(gamma, [24]), second(beta, [24]), 6, 'silu').dataSync() as Float32Array,
          tf.slice(runGroupNorm(x, gamma, beta, 6, 'silu'), [1, 0, 0, 0], [1, 5, 5, 24]).dataSync() as Float32Array,
        ];
      });
      const bits = (values: Float32Array): number[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
      expect(alone.length).toBe(5 * 5 * 24);
      expect(bits(alone)).toEqual(bits(batched));
      expect(() => tf.tidy(() => runGroupNorm(tf.zeros([1, 2, 2, 6]), tf.ones([6]), tf.zeros([6]), 4, 'linear'))).toThrow(
        /4 groups must divide 6 channels/,
      );
      expect(() => tf.tidy(() => runGroupNorm(tf.zeros([1, 2, 2, 6]), tf.ones([5]), tf.zeros([6]), 3, 'linear'))).toThrow(
        /gamma must be \[6\] or \[1, 6\]/,
      );
    });
  });
}

for (const backendName of ['wasm', 'cpu'] as const) {
  describeNative(`${CONV2D_RESIDUAL_KERNEL_NAME} and GroupNorm with scaleShift on ${backendName}`, () => {
    beforeAll(async () => {
      await selectBackend(backendName);
      registerTrainingKernels(backendName);
    });

    it.each([
      ['3x3, 32 -> 32 (direct)', [2, 6, 7, 32], 3, 32],
      ['3x3, 16 -> 21 (im2col, masked tail)', [2, 5, 6, 16], 3, 21],
      ['1x1, 24 -> 48 (one SGEMM)', [3, 4, 5, 24], 1, 48],
    ] as const)('%s: the bits of tf.add(residual, tf.fused.conv2d(...)), no tensor left', (_, shape, size, outChannels) => {
      const before = tf.memory().numTensors;
      const [fused, separate] = tf.tidy(() => {
        const x = tensor([...shape], 31) as tf.Tensor4D;
        const filter = tensor([size, size, shape[3], outChannels], 32) as tf.Tensor4D;
        const bias = tensor([outChannels], 33) as tf.Tensor1D;
        const residual = tensor([shape[0], shape[1], shape[2], outChannels], 34);
        const pad = size === 1 ? 'valid' : 'same';
        const attributes = { strides: 1, pad, dilations: 1, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
        const output = tf.engine().runKernel(CONV2D_RESIDUAL_KERNEL_NAME, { x, filter, bias, residual }, attributes) as tf.Tensor;
        return [output.dataSync(), tf.add(residual, tf.fused.conv2d({ x, filter, bias, strides: 1, pad })).dataSync()];
      });
      expect(Array.from(fused)).toEqual(Array.from(separate));
      expect(tf.memory().numTensors).toBe(before);
    });

    it('refuses a residual of another shape, naming the kernel', () => {
      tf.tidy(() => {
        const x = tensor([1, 4, 4, 16], 35) as tf.Tensor4D;
        const filter = tensor([3, 3, 16, 16], 36) as tf.Tensor4D;
        const residual = tensor([1, 4, 4, 8], 37);
        const attributes = { strides: 1, pad: 'same', dilations: 1, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
        expect(() => tf.engine().runKernel(CONV2D_RESIDUAL_KERNEL_NAME, { x, filter, residual }, attributes)).toThrow(CONV2D_RESIDUAL_KERNEL_NAME);
      });
    });

    it('GroupNorm with scaleShift [B, 2C] gives the bits of per-image gamma (1 + scale), beta (1 + scale) + shift', () => {
      if (tf.getKernel(GROUP_NORM_KERNEL_NAME, backendName) === undefined) return; // AVX-512F only, as above
      const [batch, channels] = [3, 32];
      const [adaptive, perImage] = tf.tidy(() => {
        const x = tf.add(tf.mul(tensor([batch, 5, 4, channels], 38), 2), 0.5) as tf.Tensor4D;
        const gamma = tf.add(tensor([channels], 39), 1);
        const beta = tensor([channels], 40);
        const scaleShift = tensor([batch, 2 * channels], 41) as tf.Tensor2D;
        const attributes = { groups: 8, epsilon: 1e-5, activation: 'silu' } as unknown as tf.NamedAttrMap;
        const fused = tf.engine().runKernel(GROUP_NORM_KERNEL_NAME, { x, gamma, beta, scaleShift }, attributes) as tf.Tensor;
        const factor = tf.add(tf.slice(scaleShift, [0, 0], [batch, channels]), 1);
        const shift = tf.slice(scaleShift, [0, channels], [batch, channels]);
        const reference = runGroupNorm(x, tf.mul(gamma, factor), tf.add(tf.mul(beta, factor), shift), 8, 'silu');
        return [fused.dataSync(), reference.dataSync()];
      });
      expect(Array.from(adaptive)).toEqual(Array.from(perImage));
      expect(() =>
        tf.tidy(() =>
          tf
            .engine()
            .runKernel(
              GROUP_NORM_KERNEL_NAME,
              { x: tf.ones([2, 2, 2, 4]), gamma: tf.ones([2, 4]), beta: tf.zeros([4]), scaleShift: tf.zeros([2, 8]) },
              { groups: 2, epsilon: 1e-5, activation: 'linear' } as unknown as tf.NamedAttrMap,
            ),
        ),
      ).toThrow('with scaleShift [B, 2C], gamma and beta must be [C]');
    });
  });
}

describeNative('native forward convolution: direct (no im2col buffer) and kernel threads', () => {
  // Geometries the direct paths take (Cout % 16 == 0, or Cout <= 4 and Cin % 16 == 0):
  // strides, dilations, uneven and explicit padding, every register-tile width (Cout 16, 32, 48, 64,
  // 80, 128) with row remainders.
  const geometries: number[][] = [
    // B, H, W, Cin, kh, kw, Cout, Ho, Wo, sh, sw, padTop, padLeft, dh, dw
    [2, 9, 7, 16, 3, 3, 32, 9, 7, 1, 1, 1, 1, 1, 1],
    [3, 8, 8, 24, 3, 3, 48, 4, 4, 2, 2, 0, 0, 1, 1],
    [1, 11, 5, 32, 5, 3, 64, 11, 5, 1, 1, 2, 1, 1, 1],
    [2, 10, 10, 16, 3, 3, 16, 10, 10, 1, 1, 2, 2, 2, 2],
    [1, 7, 7, 40, 2, 2, 80, 3, 3, 2, 2, 0, 0, 1, 1],
    [2, 6, 9, 17, 3, 3, 128, 7, 9, 1, 1, 2, 1, 1, 1],
    // the U-Net's 1-channel stem and an RGB input (Cin 1 and 3)
    [2, 9, 7, 1, 3, 3, 32, 9, 7, 1, 1, 1, 1, 1, 1],
    [1, 8, 8, 3, 3, 3, 16, 4, 4, 2, 2, 1, 1, 1, 1],
    // Cout <= 4 with Cin % 16 == 0: the direct dot products (the U-Net's output convolution), 8 pixels at a time
    [2, 9, 7, 32, 3, 3, 1, 9, 7, 1, 1, 1, 1, 1, 1],
    [2, 9, 7, 64, 3, 3, 3, 5, 4, 2, 2, 1, 1, 1, 1],
    [1, 6, 6, 16, 3, 3, 2, 6, 6, 1, 1, 2, 2, 2, 2],
  ];
  const run = (geometry: number[], direct: boolean, threads: number, activation: number, winograd = false, residual?: Float32Array): Float32Array => {
    const addon = (status as Extract<NativeKernelStatus, { available: true }>).addon;
    const [batch, height, width, cin, kh, kw, cout, outHeight, outWidth] = geometry as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const out = new Float32Array(batch * outHeight * outWidth * cout).fill(Number.NaN);
    const previousDirect = addon.setDirect(direct);
    const previousWinograd = addon.setWinograd(winograd);
    const previousThreads = addon.info().threads;
    addon.setThreads(threads);
    try {
      addon.conv2d(
        pseudoRandom(batch * height * width * cin, 21),
        pseudoRandom(kh * kw * cin * cout, 22),
        pseudoRandom(cout, 23),
        out,
        Int32Array.from(geometry),
        activation,
        ...(residual === undefined ? [] : [residual]),
      );
    } finally {
      addon.setDirect(previousDirect);
      addon.setWinograd(previousWinograd);
      addon.setThreads(previousThreads);
    }
    return out;
  };

  it.each(geometries.map((geometry) => [geometry.slice(0, 9).join(','), geometry] as const))(
    '%s: the bits of the im2col path, on 1 and 2 threads',
    (_, geometry) => {
      const activation = (geometry[3] as number) % 3; // none, relu, relu6
      const im2col = run(geometry, false, 1, activation);
      expect(im2col.some((value) => Number.isNaN(value))).toBe(false);
      expect(im2col.some((value) => value !== 0)).toBe(true);
      expect(Array.from(run(geometry, true, 1, activation))).toEqual(Array.from(im2col));
      expect(Array.from(run(geometry, true, 2, activation))).toEqual(Array.from(im2col));
      expect(Array.from(run(geometry, false, 2, activation))).toEqual(Array.from(im2col));
      // the filter in blocks of one tap (sums resumed from the stored partial ones)
      const addon = (status as Extract<NativeKernelStatus, { available: true }>).addon;
      const previousBlock = addon.setDirectBlock(1);
      try {
        expect(Array.from(run(geometry, true, 2, activation))).toEqual(Array.from(im2col));
      } finally {
        addon.setDirectBlock(previousBlock);
      }
    },
  );

  it('gives an image the same bits whatever the rest of its batch', () => {
    const single = [1, 9, 7, 16, 3, 3, 32, 9, 7, 1, 1, 1, 1, 1, 1];
    const batch = run([2, ...single.slice(1)], true, 2, 0);
    const first = run(single, true, 1, 0);
    expect(Array.from(batch.subarray(0, first.length))).toEqual(Array.from(first));
  });

  it('shares many small products (attention heads) among the threads, each product the same bits on 1 and 2 threads', () => {
    const addon = (status as Extract<NativeKernelStatus, { available: true }>).addon;
    // 12 heads of 256 tokens x 64 channels: 4 M multiply-adds each, 50 M in all (the threads split them from 32 M)
    const [batch, tokens, channels] = [12, 256, 64];
    const q = pseudoRandom(batch * tokens * channels, 31);
    const k = pseudoRandom(batch * tokens * channels, 32);
    const shared = pseudoRandom(tokens * channels, 33);
    const cases = [
      // q k^T (b transposed, one per head), weights v (b as it is), and one b^T shared by every head
      { a: q, b: k, parameters: [batch, batch, batch, tokens, tokens, channels, 0, 1] },
      { a: pseudoRandom(batch * tokens * tokens, 34), b: k, parameters: [batch, batch, batch, tokens, channels, tokens, 0, 0] },
      { a: q, b: shared, parameters: [batch, batch, 1, tokens, tokens, channels, 0, 1] },
    ];
    const previousThreads = addon.info().threads;
    try {
      for (const { a, b, parameters } of cases) {
        const [, , batchB, m, n, depth, , transposeB] = parameters as [number, number, number, number, number, number, number, number];
        const product = (threads: number): Float32Array => {
          addon.setThreads(threads);
          const out = new Float32Array(batch * m * n).fill(Number.NaN);
          addon.batchMatMul(a, b, out, Int32Array.from(parameters));
          return out;
        };
        const one = product(1);
        expect(Array.from(product(2))).toEqual(Array.from(one));
        // spot checks against the definition, in double
        for (const [head, row, column] of [
          [0, 0, 0],
          [5, 17, n - 1],
          [batch - 1, m - 1, 3],
        ] as const) {
          let sum = 0;
          for (let index = 0; index < depth; index += 1) {
            const right = (batchB === 1 ? 0 : head) * depth * n + (transposeB ? column * depth + index : index * n + column);
            sum += (a[head * m * depth + row * depth + index] as number) * (b[right] as number);
          }
          expect(Math.abs((one[head * m * n + row * n + column] as number) - sum)).toBeLessThan(1e-4 * Math.max(1, Math.abs(sum)));
        }
      }
    } finally {
      addon.setThreads(previousThreads);
    }
  });

  describe('Winograd F(4x4, 3x3) and F(2x2, 3x3) (3x3, stride 1, Cin and Cout % 16 == 0)', () => {
    // B, H, W, Cin, 3, 3, Cout, Ho, Wo, 1, 1, padTop, padLeft, 1, 1: 'same' and 'valid' padding, odd
    // output sizes (partial tiles), explicit padding wider than the filter, every register-tile
    // width (Cout 16 to 128), several blocks of tiles (33x31 at Cin 16) and the smallest block (Cin 256).
    // F(4x4) from 4 4x4 tiles per image (64 when Cin Cout > 128 x 128), else F(2x2) from 16 2x2 tiles.
    const winogradGeometries: number[][] = [
      // F(4x4): 16 tiles; partial tiles (18x17); 'valid' padding; more than 128 x 128 channels at 32x32; 4 tiles (7x7, partial)
      [2, 16, 16, 32, 3, 3, 32, 16, 16, 1, 1, 1, 1, 1, 1],
      [1, 18, 17, 48, 3, 3, 64, 18, 17, 1, 1, 1, 1, 1, 1],
      [1, 20, 19, 16, 3, 3, 16, 18, 17, 1, 1, 0, 0, 1, 1],
      [1, 32, 32, 144, 3, 3, 128, 32, 32, 1, 1, 1, 1, 1, 1],
      [3, 7, 7, 64, 3, 3, 64, 7, 7, 1, 1, 1, 1, 1, 1],
      // F(2x2)
      [2, 9, 7, 16, 3, 3, 32, 9, 7, 1, 1, 1, 1, 1, 1],
      [1, 10, 9, 16, 3, 3, 16, 8, 7, 1, 1, 0, 0, 1, 1],
      [2, 7, 7, 64, 3, 3, 48, 9, 9, 1, 1, 2, 2, 1, 1],
      [3, 8, 8, 32, 3, 3, 64, 8, 8, 1, 1, 1, 1, 1, 1],
      [1, 33, 31, 16, 3, 3, 80, 33, 31, 1, 1, 1, 1, 1, 1],
      [2, 12, 11, 256, 3, 3, 128, 12, 11, 1, 1, 1, 1, 1, 1],
    ];
    const maxAbs = (values: Float32Array): number => values.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
    const maxDifference = (a: Float32Array, b: Float32Array): number =>
      a.reduce((largest, value, index) => Math.max(largest, Math.abs(value - (b[index] as number))), 0);

    it.each(winogradGeometries.map((geometry) => [geometry.slice(0, 9).join(','), geometry] as const))(
      '%s: within float32 rounding of im2col, with bias, residual and activation; the same bits on 1 and 2 threads',
      (_, geometry) => {
        const [batch, , , cin, , , cout, outHeight, outWidth] = geometry as [number, number, number, number, number, number, number, number, number];
        const residual = pseudoRandom(batch * outHeight * outWidth * cout, 24);
        for (const [activation, withResidual] of [
          [0, true],
          [1, false],
        ] as const) {
          const reference = run(geometry, false, 1, activation, false, withResidual ? residual : undefined);
          const winograd = run(geometry, true, 1, activation, true, withResidual ? residual : undefined);
          expect(winograd.some((value) => Number.isNaN(value))).toBe(false);
          // not the im2col path's bits (so the Winograd path did run), but within rounding: the
          // products' error grows like sqrt(9 Cin) ulps of the largest value, times the transforms'
          // growth (F(4x4)'s matrices hold 4, 5 and 8: up to 1e-5 of the largest value measured)
          expect(Array.from(winograd)).not.toEqual(Array.from(reference));
          expect(maxDifference(winograd, reference)).toBeLessThan(1e-6 * Math.sqrt(9 * cin) * Math.max(1, maxAbs(reference)));
          expect(Array.from(run(geometry, true, 2, activation, true, withResidual ? residual : undefined))).toEqual(Array.from(winograd));
          if (activation === 1) expect(winograd.reduce((smallest, value) => Math.min(smallest, value), Infinity)).toBe(0);
        }
      },
    );

    it('gives an image the same bits whatever the rest of its batch', () => {
      const single = [1, 12, 11, 32, 3, 3, 48, 12, 11, 1, 1, 1, 1, 1, 1];
      const first = run(single, true, 1, 0, true);
      const batch = run([3, ...single.slice(1)], true, 2, 0, true);
      expect(Array.from(batch.subarray(0, first.length))).toEqual(Array.from(first));
      expect(Array.from(first)).not.toEqual(Array.from(run(single, true, 1, 0, false)));
    });

    it('keeps transformed filters between calls, and transforms a filter again when its values change in place', () => {
      const addon = (status as Extract<NativeKernelStatus, { available: true }>).addon;
      const geometry = Int32Array.from([2, 16, 16, 32, 3, 3, 48, 16, 16, 1, 1, 1, 1, 1, 1]);
      const x = pseudoRandom(2 * 16 * 16 * 32, 41);
      const filter = pseudoRandom(9 * 32 * 48, 42);
      const bias = pseudoRandom(48, 43);
      const convolve = (): Float32Array => {
        const out = new Float32Array(2 * 16 * 16 * 48).fill(Number.NaN);
        addon.conv2d(x, filter, bias, out, geometry, 0);
        return out;
      };
      const previousWinograd = addon.setWinograd(true);
      const previousLimit = addon.setWinogradCache(64 * 1024 * 1024);
      try {
        const first = convolve();
        const kept = convolve(); // from the kept transform
        addon.setWinogradCache(0);
        const fresh = convolve();
        expect(Array.from(kept)).toEqual(Array.from(first));
        expect(Array.from(fresh)).toEqual(Array.from(first));
        // the same array, one weight changed in place: the kept transform must not be used
        addon.setWinogradCache(64 * 1024 * 1024);
        convolve();
        filter[100] = (filter[100] as number) + 0.5;
        const changed = convolve();
        addon.setWinogradCache(0);
        const changedFresh = convolve();
        expect(Array.from(changed)).toEqual(Array.from(changedFresh));
        expect(Array.from(changed)).not.toEqual(Array.from(first));
      } finally {
        addon.setWinograd(previousWinograd);
        addon.setWinogradCache(previousLimit);
      }
    });

    it('leaves small images (and other geometries) to the direct path, bit for bit', () => {
      for (const geometry of [
        [2, 4, 4, 32, 3, 3, 32, 4, 4, 1, 1, 1, 1, 1, 1], // one 4x4 tile, four 2x2 tiles
        [2, 9, 7, 17, 3, 3, 32, 9, 7, 1, 1, 1, 1, 1, 1], // Cin 17
        [2, 9, 9, 16, 3, 3, 32, 5, 5, 2, 2, 1, 1, 1, 1], // stride 2
      ]) {
        expect(Array.from(run(geometry, true, 1, 0, true))).toEqual(Array.from(run(geometry, false, 1, 0)));
      }
    });
  });
});

describe('native kernel status', () => {
  it(inCi ? 'is available in CI' : 'is available, or says why not', () => {
    if (inCi) expect(status).toMatchObject({ available: true });
    if (status.available) expect(status.description).toMatch(/OpenBLAS .*core .*thread/);
    else expect(status.reason.length).toBeGreaterThan(0);
  });
});
