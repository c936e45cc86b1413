// Micro benchmark of the training kernels this package registers, against tfjs's own ("before").
//
//   npx tsc -p packages/backends/tsconfig.build.json   # builds packages/backends/dist
//   node packages/backends/bench/filter-gradient.mjs     # --original adds tfjs-backend-cpu's own
//                                                         # Conv2DBackpropFilter (about a minute)
//
// Shapes: x [8, 32, 32, 64], dy [8, 32, 32, 64], 3x3 filters, stride 1, 'same' (a U-Net block at
// 32x32); pooling and resizing gradients at the same size. Times are medians of 5 runs after one
// warm-up (one run for the slow original). Machines are noisy: compare rows of one run only.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import { TRAINING_KERNEL_NAMES, registerTrainingKernels, restoreTfjsKernels } from '../dist/training-kernels.js';

const withOriginal = process.argv.includes('--original');
const repeats = 5;
const [batch, size, channels, kernel] = [8, 32, 64, 3];

function median(run, count) {
  const times = [];
  let values;
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const out = run();
    values = out.dataSync();
    times.push(performance.now() - start);
    out.dispose();
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(count / 2)], values };
}

function measure(run, once = false) {
  if (once) return median(run, 1);
  run().dispose();
  return median(run, repeats);
}

function maxAbsDifference(u, v) {
  let max = 0;
  for (let i = 0; i < u.length; i++) max = Math.max(max, Math.abs(u[i] - v[i]));
  return max;
}

await tf.setBackend('cpu');
const xValues = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 1).dataSync();
const dyValues = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 2).dataSync();
const wValues = tf.randomNormal([kernel, kernel, channels, channels], 0, 0.1, 'float32', 3).dataSync();
const dwValues = tf.randomNormal([kernel, kernel, channels, 1], 0, 0.1, 'float32', 4).dataSync();
const upValues = tf.randomNormal([batch, 2 * size, 2 * size, channels], 0, 1, 'float32', 5).dataSync();
const halfValues = tf.randomNormal([batch, size / 2, size / 2, channels], 0, 1, 'float32', 6).dataSync();

const rows = [];
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  const shape = [batch, size, size, channels];
  const x = tf.tensor4d(xValues, shape);
  const dy = tf.tensor4d(dyValues, shape);
  const w = tf.tensor4d(wValues, [kernel, kernel, channels, channels]);
  const dw = tf.tensor4d(dwValues, [kernel, kernel, channels, 1]);
  const dyUp = tf.tensor4d(upValues, [batch, 2 * size, 2 * size, channels]);
  const dyHalf = tf.tensor4d(halfValues, [batch, size / 2, size / 2, channels]);
  const run = (name, inputs, attrs) => () => tf.engine().runKernel(name, inputs, attrs);
  const depthwiseAttrs = { strides: 1, dilations: 1, pad: 'same' };
  const resize = { alignCorners: false, halfPixelCenters: false, size: [2 * size, 2 * size] };
  const kernels = [
    ['Conv2D (forward, for scale)', run('Conv2D', { x, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 })],
    ['Conv2DBackpropFilter', run('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape })],
    ['Conv2DBackpropInput', run('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: shape })],
    ['DepthwiseConv2dNativeBackpropFilter', run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...depthwiseAttrs, filterShape: dw.shape })],
    ['DepthwiseConv2dNativeBackpropInput', run('DepthwiseConv2dNativeBackpropInput', { dy, filter: dw }, { ...depthwiseAttrs, inputShape: shape })],
    ['ResizeNearestNeighborGrad (x2)', run('ResizeNearestNeighborGrad', { images: x, dy: dyUp }, resize)],
    ['ResizeBilinearGrad (x2)', run('ResizeBilinearGrad', { images: x, dy: dyUp }, resize)],
    ['MaxPoolGrad (2x2 / 2)', run('MaxPoolGrad', { dy: dyHalf, input: x, output: dyHalf }, { filterSize: 2, strides: 2, pad: 'valid' })],
    ['AvgPoolGrad (2x2 / 2)', run('AvgPoolGrad', { dy: dyHalf, input: x }, { filterSize: 2, strides: 2, pad: 'valid' })],
  ];
  for (const [name, kernelRun] of kernels) {
    const kernelName = name.split(' ')[0];
    restoreTfjsKernels(backend);
    let before;
    const tfjsHas = tf.getKernel(kernelName, backend) !== undefined;
    const slowOriginal = backend === 'cpu' && kernelName === 'Conv2DBackpropFilter';
    if (tfjsHas && (!slowOriginal || withOriginal)) before = measure(kernelRun, slowOriginal);
    registerTrainingKernels(backend);
    const after = measure(kernelRun);
    const replaced = before !== undefined && TRAINING_KERNEL_NAMES[backend].includes(kernelName);
    rows.push({
      backend,
      kernel: name,
      'tfjs ms (before)': !tfjsHas ? 'missing' : before === undefined ? '(--original)' : Number(before.ms.toFixed(1)),
      'ms (after)': Number(after.ms.toFixed(1)),
      'max |after - before|': replaced ? Number(maxAbsDifference(after.values, before.values).toExponential(1)) : '',
    });
  }
  tf.dispose([x, dy, w, dw, dyUp, dyHalf]);
}
console.table(rows);
console.log("'after' is tfjs's own kernel again where this package keeps it (not in TRAINING_KERNEL_NAMES);");
console.log('a large |after - before| marks a tfjs kernel that is wrong (see the tests), not an error of ours.');
