#!/usr/bin/env node
// CPU time of one U-Net evaluation with the fused GroupNorm kernel (TfjsDiffusionGroupNorm) and
// without it (the networks' tf ops), measured load-independently: the calling thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID, from the native addon) per evaluation, the two variants interleaved
// (A B, B A, ...) so that a change of load hits both alike. Prints ONE JSON line:
// {backend, batch, rounds, mode, kernel, maxAbsDifference, threadMs: {unfused, fused}, processMs: {...},
//  medianMs: {...}, ratio, loadBefore, loadAfter}
// --kernel NAME compares another native kernel instead (e.g. Slice): 'fused' is the native kernel,
// 'unfused' the one it replaces (this package's or tfjs's).
// --breakdown N instead times every kernel call of N evaluations (or training steps) in thread CPU
// time, by wrapping the backend's registered kernels, and prints the totals per kernel name
// (with --by-shape: per kernel name and input shapes, e.g. to see which convolutions cost most).
// --train measures a training step's forward + backward instead (tf.variableGrads of the MSE to a
// fixed target, the gradients read back): fused is the kernel and its native gradient.
//
// Runs from the built packages (pnpm build first; needs the native addon on an AVX-512 CPU):
//   node packages/conformance/scripts/group-norm-cpu-time.mjs --backend wasm --batch 32 --rounds 9
// --evaluations N (default 1) runs only N evaluations of the chosen --variant (fused | unfused) after
// one warm-up, for instruction counts under valgrind --tool=callgrind (compare N = 1 and N = 3).
// The network is the `torch-peer` preset (the benchmark's reference U-Net) with random weights.
import process from 'node:process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { GROUP_NORM_KERNEL_NAME, nativeKernelStatus, registerTrainingKernels, selectBackend } from '@tfjs-diffusion/backends/node';
import { randomTorchPeer } from './random-torch-peer.mjs';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '9' },
    evaluations: { type: 'string' },
    variant: { type: 'string', default: 'fused' },
    train: { type: 'boolean', default: false },
    kernel: { type: 'string', default: GROUP_NORM_KERNEL_NAME },
    breakdown: { type: 'string' },
    'by-shape': { type: 'boolean', default: false },
  },
});
const backend = values.backend;
const batch = Number(values.batch);
const rounds = Number(values.rounds);

const choice = await selectBackend(backend);
console.error(choice.reason);
const status = nativeKernelStatus();
const kernelName = values.kernel;
// the kernel the native one replaces (none for the fused GroupNorm), then the native one
registerTrainingKernels(backend, { native: false });
const replaced = tf.getKernel(kernelName, backend);
registerTrainingKernels(backend);
const kernel = tf.getKernel(kernelName, backend);
if (status?.available !== true || kernel === undefined || kernel === replaced) {
  console.error(`no native ${kernelName} on ${backend}: ${status?.available === false ? status.reason : 'not in this addon or no AVX-512F'}`);
  process.exit(1);
}
const addon = status.addon;
// one kernel thread, as in each benchmark worker (thread CPU time would miss the others' share)
addon.setThreads(1);
const { model, predict, dispose } = randomTorchPeer(batch);
const variables = [...model.parameters.values()];
const target = tf.randomNormal([batch, 32, 32, 1], 0, 1, 'float32', 5);
// Values are read outside tf.tidy: a typed array returned from tidy is walked index by index
// (walkTensorContainer), ~1 ms per 1,000 values, which would count here as evaluation time.
const READ = 4096; // values kept per tensor for the comparison (typed-array copies: no per-value JavaScript)
const readAndDispose = (tensors) => {
  const parts = tensors.map((tensor) => tensor.dataSync().subarray(0, READ));
  const values = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    values.set(part, offset);
    offset += part.length;
  }
  tf.dispose(tensors);
  return values;
};
const evaluate = values.train
  ? () =>
      readAndDispose(
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(predict(), target))), variables);
          return [value, ...Object.values(grads)];
        }),
      )
  : () => readAndDispose([tf.tidy(predict)]);
const setFused = (on) => {
  const wanted = on ? kernel : replaced;
  if (tf.getKernel(kernelName, backend) === wanted) return;
  if (tf.getKernel(kernelName, backend) !== undefined) tf.unregisterKernel(kernelName, backend);
  if (wanted !== undefined) tf.registerKernel(wanted);
};

if (values.breakdown !== undefined) {
  // every kernel of the backend wrapped: thread CPU time per call, summed by kernel name
  const totals = new Map();
  const wrapped = tf.getKernelsForBackend(backend).map((config) => {
    const kernelFunc = (args) => {
      const started = addon.threadCpuSeconds();
      try {
        return config.kernelFunc(args);
      } finally {
        const key = values['by-shape']
          ? `${config.kernelName} ${Object.values(args.inputs)
              .filter((input) => input !== undefined && input !== null)
              .map((input) => input.shape.join('x'))
              .join(' ')}`
          : config.kernelName;
        const entry = totals.get(key) ?? { seconds: 0, calls: 0 };
        entry.seconds += addon.threadCpuSeconds() - started;
        entry.calls += 1;
        totals.set(key, entry);
      }
    };
    tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel({ ...config, kernelFunc, setupFunc: undefined });
    return config;
  });
  evaluate();
  totals.clear();
  const count = Number(values.breakdown);
  const started = addon.threadCpuSeconds();
  for (let index = 0; index < count; index += 1) evaluate();
  const totalMs = ((addon.threadCpuSeconds() - started) * 1000) / count;
  for (const config of wrapped) {
    tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel(config);
  }
  const kernelsMs = Object.fromEntries(
    [...totals.entries()]
      .sort((first, second) => second[1].seconds - first[1].seconds)
      .map(([name, { seconds, calls }]) => [name, { ms: Math.round((seconds * 1e4) / count) / 10, calls: calls / count }]),
  );
  const inKernels = ([...totals.values()].reduce((total, entry) => total + entry.seconds, 0) * 1000) / count;
  console.log(
    JSON.stringify({
      backend,
      batch,
      mode: values.train ? 'train' : 'eval',
      evaluations: count,
      totalMs: Math.round(totalMs * 10) / 10,
      inKernelsMs: Math.round(inKernels * 10) / 10,
      kernelsMs,
      load: loadavg()[0],
    }),
  );
  process.exit(0);
}

if (values.evaluations !== undefined) {
  setFused(values.variant === 'fused');
  evaluate();
  for (let index = 0; index < Number(values.evaluations); index += 1) evaluate();
  console.log(JSON.stringify({ backend, batch, variant: values.variant, evaluations: Number(values.evaluations) }));
  process.exit(0);
}

setFused(false);
const unfused = evaluate();
setFused(true);
const fused = evaluate();
let maxAbsDifference = 0;
for (let index = 0; index < fused.length; index += 1) maxAbsDifference = Math.max(maxAbsDifference, Math.abs(fused[index] - unfused[index]));
const threadMs = { unfused: [], fused: [] };
const processMs = { unfused: [], fused: [] };
const loadBefore = loadavg()[0];
for (let round = 0; round < rounds; round += 1) {
  for (const variant of round % 2 === 0 ? ['unfused', 'fused'] : ['fused', 'unfused']) {
    setFused(variant === 'fused');
    const thread = addon.threadCpuSeconds();
    const started = process.cpuUsage();
    evaluate();
    const used = process.cpuUsage(started);
    threadMs[variant].push(Math.round((addon.threadCpuSeconds() - thread) * 1e4) / 10);
    processMs[variant].push(Math.round((used.user + used.system) / 100) / 10);
  }
}
setFused(true);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const medianMs = { unfused: median(threadMs.unfused), fused: median(threadMs.fused) };
console.log(
  JSON.stringify({
    backend,
    batch,
    rounds,
    mode: values.train ? 'train' : 'eval',
    kernel: kernelName,
    maxAbsDifference,
    threadMs,
    processMs,
    medianMs,
    ratio: Math.round((medianMs.fused / medianMs.unfused) * 1000) / 1000,
    loadBefore,
    loadAfter: loadavg()[0],
  }),
);
dispose();
target.dispose();
