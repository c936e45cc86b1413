import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TRAINING_KERNEL_NAMES, hasTrainingKernels, registerTrainingKernels, restoreTfjsKernels } from './training-kernels.js';
import { resizeNearestNeighborGradKernel } from './pooling-gradients.js';
import {
  maxAbsDifference,
  pseudoRandom,
  referenceDepthwiseFilterGradient,
  referenceDepthwiseInputGradient,
  referenceFilterGradient,
  referenceInputGradient,
  type ConvolutionGeometry,
} from './test-utils/reference-convolution.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  readonly name: string;
  readonly x: [number, number, number, number];
  readonly filter: [number, number];
  readonly outChannels: number;
  readonly strides: number | [number, number];
  readonly pad: Pad;
}

const cases: Case[] = [
  { name: '3x3 stride 1 same', x: [2, 5, 5, 3], filter: [3, 3], outChannels: 4, strides: 1, pad: 'same' },
  { name: '3x3 stride 2 same, odd/even sizes', x: [2, 6, 7, 3], filter: [3, 3], outChannels: 4, strides: 2, pad: 'same' },
  { name: '3x3 stride 2 valid, odd size', x: [2, 7, 7, 3], filter: [3, 3], outChannels: 2, strides: 2, pad: 'valid' },
  { name: '3x3 stride 2 valid, unread last row', x: [1, 8, 8, 2], filter: [3, 3], outChannels: 3, strides: 2, pad: 'valid' },
  { name: '1x1 stride 1 valid', x: [2, 5, 6, 3], filter: [1, 1], outChannels: 4, strides: 1, pad: 'valid' },
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
  {
    name: '1x1 stride 2, taps only in padding',
    x: [1, 1, 1, 2],
    filter: [1, 1],
    outChannels: 2,
    strides: 2,
    pad: [
      [0, 0],
      [1, 0],
      [1, 0],
      [0, 0],
    ],
  },
];

function geometryOf(testCase: Case, filterShape: [number, number, number, number], depthwise = false): ConvolutionGeometry {
  const info = tf.backend_util.computeConv2DInfo(testCase.x, filterShape, testCase.strides, 1, testCase.pad, undefined, depthwise);
  return {
    inputShape: testCase.x,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

function inputsOf(testCase: Case, dyChannels: number) {
  const geometry = geometryOf(testCase, [...testCase.filter, testCase.x[3], testCase.outChannels]);
  const dyShape: [number, number, number, number] = [testCase.x[0], geometry.outHeight, geometry.outWidth, dyChannels];
  const xValues = pseudoRandom(
    testCase.x.reduce((a, b) => a * b),
    11,
  );
  const dyValues = pseudoRandom(
    dyShape.reduce((a, b) => a * b),
    12,
  );
  return { geometry, dyShape, xValues, dyValues };
}

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: object): Float32Array {
  return tf.tidy(() => (tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array);
}

function filterGradient(testCase: Case, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): { ours: Float32Array; reference: Float64Array } {
  const { geometry, dyShape, xValues, dyValues } = inputsOf(testCase, testCase.outChannels);
  const filterShape: [number, number, number, number] = [...testCase.filter, testCase.x[3], testCase.outChannels];
  const reference = referenceFilterGradient(xValues, dyValues, geometry, testCase.outChannels);
  const ours = tf.tidy(() => {
    let x: tf.Tensor = tf.tensor4d(xValues, testCase.x);
    let dy: tf.Tensor = tf.tensor4d(dyValues, dyShape);
    if (dataFormat === 'NCHW') [x, dy] = [tf.transpose(x, [0, 3, 1, 2]), tf.transpose(dy, [0, 3, 1, 2])];
    return runKernel('Conv2DBackpropFilter', { x, dy }, { strides: testCase.strides, pad: testCase.pad, dataFormat, filterShape });
  });
  return { ours, reference };
}

function inputGradient(testCase: Case, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): { ours: Float32Array; reference: Float64Array } {
  const { geometry, dyShape, dyValues } = inputsOf(testCase, testCase.outChannels);
  const filterShape: [number, number, number, number] = [...testCase.filter, testCase.x[3], testCase.outChannels];
  const filterValues = pseudoRandom(
    filterShape.reduce((a, b) => a * b),
    13,
  );
  const reference = referenceInputGradient(dyValues, filterValues, geometry, testCase.outChannels);
  const ours = tf.tidy(() => {
    let dy: tf.Tensor = tf.tensor4d(dyValues, dyShape);
    const filter = tf.tensor4d(filterValues, filterShape);
    let inputShape = testCase.x;
    if (dataFormat === 'NCHW') {
      dy = tf.transpose(dy, [0, 3, 1, 2]);
      inputShape = [testCase.x[0], testCase.x[3], testCase.x[1], testCase.x[2]];
    }
    const dx = tf.tensor(
      runKernel('Conv2DBackpropInput', { dy, filter }, { strides: testCase.strides, pad: testCase.pad, dataFormat, inputShape }),
      inputShape,
    );
    return (dataFormat === 'NCHW' ? tf.transpose(dx, [0, 2, 3, 1]) : dx).dataSync() as Float32Array;
  });
  return { ours, reference };
}

function depthwiseGradients(testCase: Case, multiplier: number) {
  const channels = testCase.x[3];
  const filterShape: [number, number, number, number] = [...testCase.filter, channels, multiplier];
  const { geometry, dyShape, xValues, dyValues } = inputsOf({ ...testCase, outChannels: channels * multiplier }, channels * multiplier);
  const filterValues = pseudoRandom(
    filterShape.reduce((a, b) => a * b),
    14,
  );
  const attrs = { strides: testCase.strides, dilations: 1, pad: testCase.pad };
  const filterOurs = tf.tidy(() =>
    runKernel(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: tf.tensor4d(xValues, testCase.x), dy: tf.tensor4d(dyValues, dyShape) },
      { ...attrs, filterShape },
    ),
  );
  const inputOurs = tf.tidy(() =>
    runKernel(
      'DepthwiseConv2dNativeBackpropInput',
      { dy: tf.tensor4d(dyValues, dyShape), filter: tf.tensor4d(filterValues, filterShape) },
      { ...attrs, inputShape: testCase.x },
    ),
  );
  return {
    filter: { ours: filterOurs, reference: referenceDepthwiseFilterGradient(xValues, dyValues, geometry, multiplier) },
    input: { ours: inputOurs, reference: referenceDepthwiseInputGradient(dyValues, filterValues, geometry, multiplier) },
  };
}

const TOLERANCE = 1e-4;
const worst: Record<string, number> = {};
function check(label: string, result: { ours: ArrayLike<number>; reference: ArrayLike<number> }): void {
  const error = maxAbsDifference(result.ours, result.reference);
  worst[label] = Math.max(worst[label] ?? 0, error);
  expect(error, label).toBeLessThan(TOLERANCE);
}

/** tfjs-backend-cpu's own ResizeNearestNeighborGrad, as imported. */
let cpuResizeNearestNeighborGrad: tf.KernelConfig | undefined;

beforeAll(async () => {
  cpuResizeNearestNeighborGrad = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  await tf.setBackend('cpu');
  await tf.setBackend('wasm');
});

afterAll(() => {
  console.log(`max abs error against float64 references (tolerance ${TOLERANCE}):`, worst);
});

describe('tfjs-backend-cpu own kernels agree with the references (checks the references)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    restoreTfjsKernels('cpu');
  });
  afterAll(() => registerTrainingKernels('cpu'));
  it.each(cases)('$name', (testCase) => {
    check('cpu tfjs Conv2DBackpropFilter', filterGradient(testCase));
    check('cpu tfjs Conv2DBackpropInput', inputGradient(testCase));
    if (typeof testCase.pad !== 'object') {
      const { filter, input } = depthwiseGradients(testCase, 2);
      check('cpu tfjs DepthwiseConv2dNativeBackpropFilter', filter);
      check('cpu tfjs DepthwiseConv2dNativeBackpropInput', input);
    }
  });
});

describe.each(['cpu', 'wasm'] as const)('training kernels on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    registerTrainingKernels(backend);
  });

  it('are registered, once', () => {
    expect(hasTrainingKernels(backend)).toBe(true);
    expect(registerTrainingKernels(backend)).toEqual([]);
    for (const name of TRAINING_KERNEL_NAMES[backend]) expect(tf.getKernel(name, backend)).toBeDefined();
  });

  it.each(cases)('Conv2DBackpropFilter: $name', (testCase) => check(`${backend} Conv2DBackpropFilter`, filterGradient(testCase)));
  it.each(cases)('Conv2DBackpropInput: $name', (testCase) => check(`${backend} Conv2DBackpropInput`, inputGradient(testCase)));
  it.each(cases.filter((testCase) => typeof testCase.pad !== 'object'))('depthwise backprop (multiplier 1 and 2): $name', (testCase) => {
    for (const multiplier of [1, 2]) {
      const { filter, input } = depthwiseGradients(testCase, multiplier);
      check(`${backend} DepthwiseConv2dNativeBackpropFilter`, filter);
      check(`${backend} DepthwiseConv2dNativeBackpropInput`, input);
    }
  });

  it('NCHW data format', () => {
    const testCase = cases[1]!;
    check(`${backend} Conv2DBackpropFilter`, filterGradient(testCase, 'NCHW'));
    if (backend === 'cpu') check(`${backend} Conv2DBackpropInput`, inputGradient(testCase, 'NCHW'));
  });

  it('UnsortedSegmentSum matches a host sum, dropping ids out of range', () => {
    const result = tf.tidy(() => {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
      return tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, -1, 7], 'int32'), 3).arraySync();
    });
    expect(result).toEqual([
      [3, 4],
      [0, 0],
      [6, 8],
    ]);
  });

  it('leaks no tensors and no backend data (tfjs leak check on)', () => {
    const backendData = tf.backend() as tf.KernelBackend;
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = backendData.numDataIds();
    tf.env().set('IS_TEST', true);
    try {
      for (const testCase of [cases[1]!, cases[3]!, cases[9]!]) {
        filterGradient(testCase);
        inputGradient(testCase);
        depthwiseGradients(cases[1]!, 2);
      }
      tf.tidy(() => {
        const x = tf.tensor4d(pseudoRandom(2 * 5 * 7 * 3, 60), [2, 5, 7, 3]);
        const pooled = (input: tf.Tensor) => {
          const image = input as tf.Tensor4D;
          const resized = tf.add(tf.image.resizeNearestNeighbor(image, [8, 9]), tf.image.resizeBilinear(image, [8, 9], false, true));
          return tf.addN([tf.sum(resized), tf.sum(tf.maxPool(image, 2, 2, 'same')), tf.sum(tf.avgPool(image, 3, 2, 'same'))]);
        };
        tf.grad(pooled)(x).dataSync();
        tf.unsortedSegmentSum(x, tf.tensor1d([1, 0], 'int32'), 3).dataSync();
      });
    } finally {
      tf.env().set('IS_TEST', false);
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(backendData.numDataIds()).toBe(dataBefore);
  });
});

/** <J^T w, v> = <w, J v> for a linear op: checks a gradient against the backend's own forward pass. */
function adjointError(forward: (x: tf.Tensor) => tf.Tensor, shape: number[]): number {
  return tf.tidy(() => {
    const x = tf.tensor(
      pseudoRandom(
        shape.reduce((a, b) => a * b),
        40,
      ),
      shape,
    );
    const w = tf.tensor(pseudoRandom(forward(x).size, 41), forward(x).shape);
    const v = tf.tensor(pseudoRandom(x.size, 42), shape);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(forward(input), w)))(x);
    const left = tf.sum(tf.mul(gradient, v)).dataSync()[0] ?? Number.NaN;
    const right = tf.sum(tf.mul(w, forward(v))).dataSync()[0] ?? Number.NaN;
    return Math.abs(left - right) / Math.max(1, Math.abs(right));
  });
}

describe.each(['cpu', 'wasm'] as const)('pooling and resizing gradients on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    registerTrainingKernels(backend);
  });

  const resizeModes = [
    { alignCorners: false, halfPixelCenters: false },
    { alignCorners: true, halfPixelCenters: false },
    { alignCorners: false, halfPixelCenters: true },
  ];
  it.each(resizeModes)('ResizeNearestNeighborGrad is the adjoint of the forward resize: %o', ({ alignCorners, halfPixelCenters }) => {
    for (const size of [
      [8, 8],
      [7, 9],
      [3, 2],
    ] as const) {
      const forward = (x: tf.Tensor) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [size[0], size[1]], alignCorners, halfPixelCenters);
      const error = adjointError(forward, [2, 4, 5, 3]);
      worst[`${backend} ResizeNearestNeighborGrad adjoint (relative)`] = Math.max(
        worst[`${backend} ResizeNearestNeighborGrad adjoint (relative)`] ?? 0,
        error,
      );
      expect(error, `size ${size}`).toBeLessThan(TOLERANCE);
    }
  });

  it('AvgPoolGrad and ResizeBilinearGrad are the adjoints of their forward passes', () => {
    const forwards = [
      (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
      (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'),
      (x: tf.Tensor) => tf.image.resizeBilinear(x as tf.Tensor4D, [7, 9]),
      (x: tf.Tensor) => tf.image.resizeBilinear(x as tf.Tensor4D, [8, 10], false, true),
      (x: tf.Tensor) => tf.image.resizeBilinear(x as tf.Tensor4D, [3, 4], true, false),
      (x: tf.Tensor) => tf.image.resizeBilinear(x as tf.Tensor4D, [4, 3], false, true),
    ];
    for (const [index, forward] of forwards.entries()) {
      const error = adjointError(forward, [2, 5, 7, 3]);
      worst[`${backend} AvgPoolGrad/ResizeBilinearGrad adjoint (relative)`] = Math.max(
        worst[`${backend} AvgPoolGrad/ResizeBilinearGrad adjoint (relative)`] ?? 0,
        error,
      );
      expect(error, `forward ${index}`).toBeLessThan(TOLERANCE);
    }
  });

  it.each([
    { filter: 2, stride: 2, pad: 'valid' as const, shape: [2, 4, 4, 3] },
    { filter: 3, stride: 2, pad: 'same' as const, shape: [2, 5, 7, 3] },
    { filter: 3, stride: 1, pad: 'same' as const, shape: [1, 4, 4, 2] },
  ])('MaxPoolGrad routes dy to the first largest input: $filter x $filter stride $stride $pad', ({ filter, stride, pad, shape }) => {
    const size = shape.reduce((a, b) => a * b);
    // Ties on purpose: values in a coarse grid, so "first largest" matters.
    const xValues = pseudoRandom(size, 50).map((value) => Math.round(value * 3));
    const [batch, height, width, channels] = shape as [number, number, number, number];
    const info = tf.backend_util.computePool2DInfo([batch, height, width, channels], filter, stride, 1, pad);
    const dyValues = pseudoRandom(batch * info.outHeight * info.outWidth * channels, 51);
    const expected = new Float64Array(size);
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < info.outHeight; i++)
        for (let j = 0; j < info.outWidth; j++)
          for (let d = 0; d < channels; d++) {
            let best = -Infinity;
            let at = -1;
            for (let p = 0; p < filter; p++)
              for (let q = 0; q < filter; q++) {
                const row = i * stride + p - info.padInfo.top;
                const column = j * stride + q - info.padInfo.left;
                if (row < 0 || row >= height || column < 0 || column >= width) continue;
                const offset = ((b * height + row) * width + column) * channels + d;
                if (xValues[offset]! > best) [best, at] = [xValues[offset]!, offset];
              }
            expected[at]! += dyValues[((b * info.outHeight + i) * info.outWidth + j) * channels + d]!;
          }
    const ours = tf.tidy(() => {
      const x = tf.tensor4d(xValues, [batch, height, width, channels]);
      const dy = tf.tensor4d(dyValues, [batch, info.outHeight, info.outWidth, channels]);
      return tf
        .grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, filter, stride, pad), dy)))(x)
        .dataSync() as Float32Array;
    });
    check(`${backend} MaxPoolGrad`, { ours, reference: expected });
  });
});

describe('tf.grad through a tiny conv net', () => {
  // conv 3x3 -> relu -> conv 3x3 stride 2 -> conv2dTranspose stride 2, + maxPool -> nearest
  // upsampling, -> depthwise, + class embedding (gather).
  const shapes = {
    c1: [3, 3, 2, 4],
    c2: [3, 3, 4, 4],
    up: [3, 3, 4, 4],
    dw: [3, 3, 4, 1],
    embedding: [5, 4],
  } as const;
  const parameterValues = Object.fromEntries(
    Object.entries(shapes).map(([name, shape], index) => [
      name,
      pseudoRandom(
        shape.reduce((a: number, b: number) => a * b, 1),
        20 + index,
      ),
    ]),
  );
  const xValues = pseudoRandom(2 * 7 * 7 * 2, 30);

  function gradients(): Record<string, Float32Array> {
    return tf.tidy(() => {
      const parameters = Object.fromEntries(
        Object.entries(shapes).map(([name, shape]) => [name, tf.tensor(parameterValues[name]!, [...shape])]),
      ) as Record<keyof typeof shapes, tf.Tensor>;
      const x = tf.tensor4d(xValues, [2, 7, 7, 2]);
      const labels = tf.tensor1d([3, 1], 'int32');
      const loss = (c1: tf.Tensor, c2: tf.Tensor, up: tf.Tensor, dw: tf.Tensor, embedding: tf.Tensor): tf.Scalar => {
        const h = tf.relu(tf.conv2d(x, c1 as tf.Tensor4D, 1, 'same'));
        const down = tf.conv2d(h, c2 as tf.Tensor4D, 2, 'same');
        const restored = tf.conv2dTranspose(down, up as tf.Tensor4D, [2, 7, 7, 4], 2, 'same');
        const upsampled = tf.image.resizeNearestNeighbor(tf.maxPool(h, 2, 2, 'valid'), [7, 7], false, true);
        const mixed = tf.depthwiseConv2d(tf.addN([restored, h, upsampled]) as tf.Tensor4D, dw as tf.Tensor4D, 1, 'same');
        const conditioned = tf.add(mixed, tf.reshape(tf.gather(embedding, labels), [2, 1, 1, 4]));
        return tf.mean(tf.square(conditioned));
      };
      const grads = tf.grads(loss)([parameters.c1, parameters.c2, parameters.up, parameters.dw, parameters.embedding]);
      return Object.fromEntries(Object.keys(shapes).map((name, index) => [name, grads[index]!.dataSync() as Float32Array]));
    });
  }

  it("gives the same gradients on wasm and cpu (training kernels) as on cpu with tfjs's own kernels", async () => {
    // Expected: tfjs-backend-cpu's kernels, except its ResizeNearestNeighborGrad, wrong for batch > 1
    // (ours is checked against the forward pass above).
    await tf.setBackend('cpu');
    restoreTfjsKernels('cpu');
    tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
    tf.registerKernel(resizeNearestNeighborGradKernel('cpu'));
    const expected = gradients();
    tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
    tf.registerKernel(cpuResizeNearestNeighborGrad!);
    registerTrainingKernels('cpu');
    const onCpu = gradients();
    await tf.setBackend('wasm');
    registerTrainingKernels('wasm');
    const tensorsBefore = tf.memory().numTensors;
    const onWasm = gradients();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    for (const name of Object.keys(shapes)) {
      check(`tiny net gradient ${name}, cpu fast vs tfjs`, { ours: onCpu[name]!, reference: expected[name]! });
      check(`tiny net gradient ${name}, wasm fast vs cpu tfjs`, { ours: onWasm[name]!, reference: expected[name]! });
      expect(Math.max(...expected[name]!.map(Math.abs))).toBeGreaterThan(0);
    }
  });

  it('trains on wasm with Adam, leaving tf.memory().numTensors unchanged from step to step', async () => {
    await tf.setBackend('wasm');
    registerTrainingKernels('wasm');
    const variables = Object.fromEntries(
      Object.entries(shapes).map(([name, shape]) => [name, tf.variable(tf.tensor(parameterValues[name]!, [...shape]))]),
    ) as Record<keyof typeof shapes, tf.Variable>;
    const x = tf.tensor4d(xValues, [2, 7, 7, 2]);
    const optimizer = tf.train.adam(1e-2);
    const step = (): number =>
      tf.tidy(() => {
        const loss = optimizer.minimize(() => {
          const h = tf.relu(tf.conv2d(x, variables.c1 as tf.Tensor4D, 1, 'same'));
          const down = tf.conv2d(h, variables.c2 as tf.Tensor4D, 2, 'same');
          const restored = tf.conv2dTranspose(down, variables.up as tf.Tensor4D, [2, 7, 7, 4], 2, 'same');
          const mixed = tf.depthwiseConv2d(tf.add(restored, h) as tf.Tensor4D, variables.dw as tf.Tensor4D, 1, 'same');
          return tf.mean(tf.square(mixed));
        }, true);
        return loss!.dataSync()[0]!;
      });
    const first = step();
    const tensorsAfterFirst = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 5; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(last).toBeLessThan(first);
    optimizer.dispose();
    tf.dispose([x, ...Object.values(variables)]);
  });
});
