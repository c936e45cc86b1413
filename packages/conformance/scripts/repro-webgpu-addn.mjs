#!/usr/bin/env node
// Minimal reproduction: on webgpu, tf.addN with more than 7 inputs returns a stale buffer, and so does
// @tfjs-diffusion/training's globalNorm (one tf.addN over every gradient). Runs from the built packages:
//   node packages/conformance/scripts/repro-webgpu-addn.mjs
// tfjs-backend-webgpu 4.22's AddN binds all inputs in one shader; 8 inputs + 1 output exceed WebGPU's
// default maxStorageBuffersPerShaderStage (8), so the pipeline is invalid (Dawn prints a validation
// error) and the whole command buffer holding it is dropped. (Its Concat splits inputs into chunks; AddN does not.)
import process from 'node:process';

import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import { globalNorm } from '@tfjs-diffusion/training';

await selectBackend('webgpu');
const read = async (tensor) => (await tensor.data())[0];
let failures = 0;
for (const count of [7, 8, 20]) {
  const scalars = Array.from({ length: count }, (_, index) => tf.scalar(index + 1));
  const sum = tf.addN(scalars);
  // globalNorm of gradients [1], [2], ..., [count]: sqrt(sum of squares)
  const norm = globalNorm(scalars);
  const got = [await read(sum), await read(norm)];
  const expected = [(count * (count + 1)) / 2, Math.sqrt((count * (count + 1) * (2 * count + 1)) / 6)];
  const ok = got.every((value, index) => Math.abs(value - expected[index]) < 1e-3 * expected[index]);
  if (!ok) failures += 1;
  process.stdout.write(
    `${count} inputs: addN ${got[0]} (expected ${expected[0]}), globalNorm ${got[1].toFixed(4)} (expected ${expected[1].toFixed(4)}) ${ok ? 'ok' : 'WRONG'}\n`,
  );
  tf.dispose([...scalars, sum, norm]);
}
process.exitCode = failures > 0 ? 1 : 0;
