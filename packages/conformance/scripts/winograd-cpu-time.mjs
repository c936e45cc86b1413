#!/usr/bin/env node
// Winograd against the direct convolution path of the native addon, measured load-independently in
// the calling thread's CPU time, the two interleaved (A B, B A, ...). Prints ONE JSON line:
// {batch, threads, rounds, evaluationMs: {direct, winograd}, maxAbsDifference, maxAbs, layers: [...]}
// - evaluationMs: one evaluation of the `torch-peer` U-Net (random weights) at --batch, median of
//   the rounds after two (thread CPU time; wall time too with --threads 2, whose second thread it misses);
// - layers: single 3x3 convolutions at the U-Net's (and ImageNet-64 ADM's) shapes, ms per call.
//
// Runs from the built packages (pnpm build first; needs the native addon on an AVX-512 CPU):
//   node packages/conformance/scripts/winograd-cpu-time.mjs --batch 16 --rounds 8
import process from 'node:process';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelStatus, registerTrainingKernels, selectBackend } from '@tfjs-diffusion/backends/node';
import { randomTorchPeer } from './random-torch-peer.mjs';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    layers: { type: 'boolean', default: true },
  },
});
const batch = Number(values.batch);
const rounds = Math.max(3, Number(values.rounds));
await selectBackend('wasm');
registerTrainingKernels('wasm');
const status = nativeKernelStatus();
if (status?.available !== true || !status.addon.info().avx512Gemm) {
  console.error(`no native AVX-512 kernels: ${status?.available === false ? status.reason : 'this CPU has no AVX-512F'}`);
  process.exit(1);
}
const addon = status.addon;
addon.setThreads(Number(values.threads));
const median = (samples) => {
  const sorted = samples.slice(2).sort((a, b) => a - b);
  return Math.round(sorted[sorted.length >> 1] * 100) / 100;
};

const { predict } = randomTorchPeer(batch);
const evaluate = () => {
  const output = tf.tidy(predict);
  const values = output.dataSync();
  output.dispose();
  return values;
};
const cpu = { direct: [], winograd: [] };
const wall = { direct: [], winograd: [] };
const outputs = {};
for (let round = 0; round < rounds; round += 1) {
  for (const variant of round % 2 === 0 ? ['direct', 'winograd'] : ['winograd', 'direct']) {
    addon.setWinograd(variant === 'winograd');
    const thread = addon.threadCpuSeconds();
    const started = performance.now();
    outputs[variant] = evaluate();
    cpu[variant].push((addon.threadCpuSeconds() - thread) * 1000);
    wall[variant].push(performance.now() - started);
  }
}
let maxAbsDifference = 0;
let maxAbs = 0;
outputs.direct.forEach((value, index) => {
  maxAbsDifference = Math.max(maxAbsDifference, Math.abs(value - outputs.winograd[index]));
  maxAbs = Math.max(maxAbs, Math.abs(value));
});

const layers = [];
if (values.layers) {
  // [batch, size, Cin, Cout]: the U-Net's 3x3 layers at batch 16 and ImageNet-64 ADM's widest at batch 4
  for (const [layerBatch, size, cin, cout] of [
    [16, 32, 32, 32],
    [16, 32, 64, 32],
    [16, 16, 64, 64],
    [16, 16, 128, 64],
    [16, 8, 64, 64],
    [4, 64, 192, 192],
  ]) {
    const geometry = Int32Array.from([layerBatch, size, size, cin, 3, 3, cout, size, size, 1, 1, 1, 1, 1, 1]);
    const input = Float32Array.from({ length: layerBatch * size * size * cin }, (_, index) => Math.sin(index));
    const filter = Float32Array.from({ length: 9 * cin * cout }, (_, index) => Math.cos(index) / Math.sqrt(9 * cin));
    const out = new Float32Array(layerBatch * size * size * cout);
    const calls = Math.max(3, Math.round(2e8 / (layerBatch * size * size * 9 * cin * cout)));
    const times = { direct: [], winograd: [] };
    for (let round = 0; round < 6; round += 1) {
      for (const variant of round % 2 === 0 ? ['direct', 'winograd'] : ['winograd', 'direct']) {
        addon.setWinograd(variant === 'winograd');
        addon.conv2d(input, filter, null, out, geometry, 0);
        const thread = addon.threadCpuSeconds();
        for (let call = 0; call < calls; call += 1) addon.conv2d(input, filter, null, out, geometry, 0);
        times[variant].push(((addon.threadCpuSeconds() - thread) * 1000) / calls);
      }
    }
    const direct = median(times.direct);
    const winograd = median(times.winograd);
    layers.push({
      shape: `${layerBatch}x${size}x${size}, ${cin} -> ${cout}`,
      directMs: direct,
      winogradMs: winograd,
      speedUp: Math.round((direct / winograd) * 100) / 100,
    });
  }
}
addon.setWinograd(true);
console.log(
  JSON.stringify({
    batch,
    threads: addon.info().threads,
    rounds,
    evaluationMs: { direct: median(cpu.direct), winograd: median(cpu.winograd) },
    wallMs: { direct: median(wall.direct), winograd: median(wall.winograd) },
    maxAbsDifference,
    maxAbs,
    layers,
  }),
);
