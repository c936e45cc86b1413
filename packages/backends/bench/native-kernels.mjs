// Micro benchmark: the native OpenBLAS kernels against the wasm ones, on the U-Net's conv shapes
// (the torch-peer config at 16 images per worker).
//   npx tsc -p packages/backends/tsconfig.build.json && node packages/backends/native/build.mjs
//   node packages/backends/bench/native-kernels.mjs [threads]   (median ms per kernel, native then wasm)
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, registerTrainingKernels, loadNativeKernels } from '../dist/node.js';

const threads = Number(process.argv[2] ?? 1);
await loadNativeKernels({ threads });
const choice = await selectBackend('wasm');
console.log(choice.reason);
const shapes = [
  // [batch, size, cin, cout, k, stride]
  [16, 32, 1, 32, 3, 1],
  [16, 32, 32, 32, 3, 1],
  [16, 32, 32, 32, 3, 2],
  [16, 16, 32, 64, 3, 1],
  [16, 16, 64, 64, 3, 1],
  [16, 8, 64, 64, 3, 1],
  [16, 16, 128, 64, 3, 1],
  [16, 32, 96, 32, 3, 1],
  [16, 32, 64, 32, 1, 1],
];
function time(run, repeats = 5) {
  run().dispose();
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const s = performance.now();
    const out = run();
    out.dataSync();
    times.push(performance.now() - s);
    out.dispose();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(repeats / 2)];
}
function measure() {
  const rows = [];
  for (const [b, s, cin, cout, k, stride] of shapes) {
    const x = tf.randomNormal([b, s, s, cin]);
    const w = tf.randomNormal([k, k, cin, cout]);
    const bias = tf.randomNormal([cout]);
    const y = tf.fused.conv2d({ x, filter: w, bias, strides: stride, pad: 'same' });
    const dy = tf.randomNormal(y.shape);
    const fwd = time(() => tf.fused.conv2d({ x, filter: w, bias, strides: stride, pad: 'same' }));
    const dw = time(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }),
    );
    const dx = time(() =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: stride, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape }),
    );
    rows.push({ shape: `${b}x${s}x${s}x${cin}->${cout} k${k} s${stride}`, fwd: +fwd.toFixed(2), dw: +dw.toFixed(2), dx: +dx.toFixed(2) });
    tf.dispose([x, w, bias, y, dy]);
  }
  return rows;
}
const native = measure();
registerTrainingKernels('wasm', { native: false });
const wasm = measure();
console.log('shape | native fwd / dw / dx ms | wasm fwd / dw / dx ms');
let sums = [0, 0, 0, 0, 0, 0];
native.forEach((row, i) => {
  const w = wasm[i];
  console.log(`${row.shape.padEnd(28)} | ${row.fwd} / ${row.dw} / ${row.dx} | ${w.fwd} / ${w.dw} / ${w.dx}`);
  sums = sums.map((v, j) => v + [row.fwd, row.dw, row.dx, w.fwd, w.dw, w.dx][j]);
});
console.log('sum', sums.map((v) => v.toFixed(1)).join(' '));
