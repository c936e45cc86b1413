#!/usr/bin/env node
// Trains a small U-Net for N steps on one backend and prints ONE JSON line:
// {backend, steps, numTensorsStart, numTensorsEnd, numBytesStart, numBytesEnd, gpuBytesStart?, gpuBytesEnd?, leaked, ...}
//
// Runs from the built packages (pnpm build first):
//   node packages/conformance/scripts/leak-check.mjs --backend wasm --steps 1000
// Options: --backend cpu|wasm|webgpu (default: TFJS_DIFFUSION_BACKEND or wasm), --steps N (default 1000),
//   --warmup N (steps before the GPU byte counts are taken, default 10), --batch N (default 4),
//   --image-size N (default 8), --default-kernels (webgpu on SwiftShader: keep tfjs's default
//   matMul/conv2d kernels, 10-50x slower there).
//
// numTensors and numBytes (tf.memory()) are taken before the first step and after the last; they must be
// equal. On webgpu, numBytesInGPU (bytes of GPU buffers that live tensors hold) is taken after the
// warm-up steps and after the last: it must not grow. numBytesAllocatedInGPU (tfjs's buffer pool,
// free buffers included) is reported too. Human-readable progress goes to stderr. On webgpu, Dawn
// prints WebGPU validation errors to stdout (see repro-webgpu-addn.mjs): the JSON is the last line
// starting with '{' (`| grep '^{'`).
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { backendFromEnvironment, selectBackend } from '@tfjs-diffusion/backends/node';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { createUNet } from '@tfjs-diffusion/networks';
import { createSimpleObjective } from '@tfjs-diffusion/objectives';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { Trainer } from '@tfjs-diffusion/training';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '10' },
    batch: { type: 'string', default: '4' },
    'image-size': { type: 'string', default: '8' },
    'default-kernels': { type: 'boolean', default: false },
  },
});

function positiveInteger(text, name) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

const backendName = values.backend ?? backendFromEnvironment() ?? 'wasm';
const steps = positiveInteger(values.steps, 'steps');
const warmup = Math.min(positiveInteger(values.warmup, 'warmup'), steps);
const batch = positiveInteger(values.batch, 'batch');
const imageSize = positiveInteger(values['image-size'], 'image-size');

const choice = await selectBackend(backendName);
let kernelNote = '';
if (choice.active === 'webgpu' && /swiftshader/i.test(choice.reason) && !values['default-kernels']) {
  // tfjs's default tiled matMul and conv2d are 10-50x slower on SwiftShader (a CPU emulation)
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', 2);
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_DEBUG', true);
  kernelNote = '; SwiftShader: small-output matMul and naive conv2d kernels';
}
process.stderr.write(`leak-check: ${choice.reason}${kernelNote}\n`);

const model = createUNet({
  imageSize,
  inChannels: 1,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  attentionResolutions: [imageSize / 2],
  numHeads: 2,
  groupNormGroups: 4,
  seed: 'leak-check',
});
const shape = [batch, imageSize, imageSize, 1];
const data = createNoiseSource('leak-check-data');
const batches = {
  next: () => {
    const values = data.normal(shape).map((value) => Math.tanh(value));
    return { x0: tf.tensor(values, shape) };
  },
};
const trainer = new Trainer({
  model,
  objective: createSimpleObjective(),
  schedule: createSchedule({ kind: 'linear', timesteps: 1000 }),
  batches,
  seed: 'leak-check',
  learningRate: 1e-4,
});

const memory = () => tf.memory();
const start = memory();
let afterWarmup = start;
let last;
const started = performance.now();
for (let step = 1; step <= steps; step += 1) {
  last = await trainer.trainStep();
  if (step === warmup) afterWarmup = memory();
  if (step % 100 === 0 || step === steps) {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `leak-check: step ${step}/${steps}, loss ${last.loss.toFixed(4)}, numTensors ${memory().numTensors}, ${seconds.toFixed(1)} s\n`,
    );
  }
}
const seconds = (performance.now() - started) / 1000;
const end = memory();
trainer.dispose();
model.dispose();
const afterDispose = memory();

const onGpu = end.numBytesInGPU !== undefined;
const leaked =
  end.numTensors !== start.numTensors ||
  end.numBytes !== start.numBytes ||
  afterDispose.numTensors !== 0 ||
  (onGpu && end.numBytesInGPU > afterWarmup.numBytesInGPU);
const line = {
  backend: choice.active,
  steps,
  numTensorsStart: start.numTensors,
  numTensorsEnd: end.numTensors,
  numBytesStart: start.numBytes,
  numBytesEnd: end.numBytes,
  ...(onGpu
    ? {
        gpuBytesStart: afterWarmup.numBytesInGPU,
        gpuBytesEnd: end.numBytesInGPU,
        gpuAllocatedBytesStart: afterWarmup.numBytesAllocatedInGPU,
        gpuAllocatedBytesEnd: end.numBytesAllocatedInGPU,
        gpuBytesAfterSteps: warmup,
      }
    : {}),
  numTensorsAfterDispose: afterDispose.numTensors,
  leaked,
  seconds: Number(seconds.toFixed(1)),
  model: `unet ${imageSize}x${imageSize}x1, modelChannels 8, [1, 2], batch ${batch}`,
  finalLoss: last?.loss,
};
process.stdout.write(`${JSON.stringify(line)}\n`);
process.exitCode = leaked ? 1 : 0;
