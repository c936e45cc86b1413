// Measures a published architecture on this machine: build time from weights (no random init),
// time per forward at batch 1 and peak RSS. Random weights stand in for the real ones (same
// shapes, same work). Needs `pnpm --filter @tfjs-diffusion/converters... build` first.
//
//   node packages/converters/scripts/measure-published.mjs PRESET [wasm|cpu] [runs]
//   node packages/converters/scripts/measure-published.mjs --convert FILE.pt PRESET OUT.safetensors
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { parseModelFile, readTorchCheckpoint } from '@tfjs-diffusion/checkpoints';
import { fileByteSource } from '@tfjs-diffusion/checkpoints/node';
import { createNetwork, mapParameterSource, parameterShapes } from '@tfjs-diffusion/networks';
import { convertAdmCheckpoint, countTorchParameters, planAdmModel, publishedModelFlags } from '../dist/index.js';

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const peak = () => process.resourceUsage().maxRSS * 1024;

if (process.argv[2] === '--convert') {
  const [, , , input, preset, out] = process.argv;
  const started = performance.now();
  const source = fileByteSource(input);
  const converted = convertAdmCheckpoint({ ...publishedModelFlags(preset), weights: readTorchCheckpoint(source, input), dtype: 'F16' });
  source.close();
  writeFileSync(out, converted.bytes);
  const convertSeconds = (performance.now() - started) / 1000;
  const convertPeak = peak();
  await tf.setBackend('wasm');
  const loadStarted = performance.now();
  const file = parseModelFile(new Uint8Array(readFileSync(out)), out);
  const { source: parameters } = mapParameterSource(new Map(file.tensors));
  const network = createNetwork(file.metadata.network, { parameterSource: parameters });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  console.log(
    JSON.stringify({
      preset,
      parameters: converted.parameterCount,
      outputBytes: converted.bytes.length,
      convertSeconds,
      convertPeakRss: mib(convertPeak),
      loadSeconds,
      peakRssAfterLoad: mib(peak()),
    }),
  );
  network.dispose();
  process.exit(0);
}

const [, , preset, backend = 'wasm', runsText = '2'] = process.argv;
await tf.setBackend(backend);
await tf.ready();
const plan = planAdmModel(publishedModelFlags(preset));
const shapes = parameterShapes(plan.network);
// a fast deterministic generator: the values only need to be finite and of a sensible scale
let state = 12345;
const random = (count, scale) => {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index += 1) {
    state = (state * 1103515245 + 12345) >>> 0;
    values[index] = ((state / 2 ** 32) * 2 - 1) * scale;
  }
  return values;
};
const started = performance.now();
const network = createNetwork(plan.network, {
  parameterSource: (name, shape) => {
    const count = shape.reduce((product, size) => product * size, 1);
    const fanIn = shape.length > 1 ? count / shape[shape.length - 1] : 1;
    return name.endsWith('norm.weight') || /layers\.0\.weight$|out\.0\.weight$/.test(name)
      ? new Float32Array(count).fill(1)
      : random(count, 1 / Math.sqrt(fanIn));
  },
});
const buildSeconds = (performance.now() - started) / 1000;
const rssAfterBuild = process.memoryUsage().rss;
const size = plan.network.imageSize;
const x = tf.randomNormal([1, size, size, 3]);
const timesteps = tf.tensor1d([500]);
const condition = {
  ...(plan.network.numClasses ? { classLabels: tf.tensor1d([1], 'int32') } : {}),
  ...(plan.network.lowResolutionSize
    ? { lowResolution: tf.randomNormal([1, plan.network.lowResolutionSize, plan.network.lowResolutionSize, 3]) }
    : {}),
};
const seconds = [];
for (let run = 0; run < Number(runsText); run += 1) {
  const forwardStarted = performance.now();
  const output = tf.tidy(() =>
    plan.kind === 'classifier' ? network.logits({ x, timesteps }) : network.predict({ x, timesteps, condition }).prediction,
  );
  await output.data();
  seconds.push((performance.now() - forwardStarted) / 1000);
  output.dispose();
}
console.log(
  JSON.stringify({
    preset,
    backend,
    parameters: countTorchParameters(plan),
    tensors: shapes.size,
    buildSeconds: Number(buildSeconds.toFixed(2)),
    rssAfterBuild: mib(rssAfterBuild),
    forwardSeconds: seconds.map((value) => Number(value.toFixed(2))),
    peakRss: mib(peak()),
  }),
);
network.dispose();
