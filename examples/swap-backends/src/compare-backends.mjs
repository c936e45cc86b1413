/* global console */
// The program of docs/guides/swap-backends.md: samples the same untrained MLP with the same seed on
// cpu, wasm and WebGPU and prints the largest difference of each against cpu. Plain JavaScript (ESM),
// so `node` runs it as it is: from the repository root, after `bash scripts/setup.sh`:
//   node examples/swap-backends/src/compare-backends.mjs
import { selectBackend } from '@tfjs-diffusion/backends/node'; // the Node entry: tfjs-node, WebGPU on Dawn, native kernels
import { createNoiseSource } from '@tfjs-diffusion/core';
import { createMlpDenoiser } from '@tfjs-diffusion/networks';
import { sampleDdim } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';

await selectBackend('cpu'); // a backend must be active before the first tensor is made
const model = createMlpDenoiser({ dataDimension: 2, zeroInitOutput: false, seed: 1 }); // untrained, but not zero
const schedule = respaceSchedule(createSchedule({ kind: 'cosine', timesteps: 1000 }), 'ddim20');

const results = new Map();
for (const name of ['cpu', 'wasm', 'webgpu']) {
  try {
    const choice = await selectBackend(name);
    const samples = await sampleDdim({ model, schedule, shape: [256, 2], noise: createNoiseSource(42) });
    results.set(choice.active, await samples.data()); // data(), not dataSync(): webgpu in Node
    samples.dispose();
  } catch (error) {
    console.log(`${name}: skipped (${String(error.message).slice(0, 120)})`);
  }
}
const [reference, ...others] = [...results.entries()];
for (const [name, values] of others) {
  const largest = values.reduce((worst, value, index) => Math.max(worst, Math.abs(value - reference[1][index])), 0);
  console.log(`${name} vs ${reference[0]}: largest difference ${largest.toExponential(1)}`);
}
model.dispose();
