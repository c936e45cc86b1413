// Measures a published architecture on this machine: build time from weights (no random init),
// time per forward at batch 1 and peak RSS. Random weights stand in for the real ones (same
// shapes, same work). Needs `pnpm --filter @tfjs-diffusion/converters... build` first.
// Each mode is one process, so its peak RSS is its own (run it under /usr/bin/time -v too).
//
//   node packages/converters/scripts/measure-published.mjs PRESET [wasm|cpu] [runs]
//   node packages/converters/scripts/measure-published.mjs --convert FILE.pt PRESET OUT.safetensors
//   node packages/converters/scripts/measure-published.mjs --load MODEL.safetensors [wasm|cpu] [forward]
import { fileByteSource, writeFileStreamAtomically } from '@tfjs-diffusion/checkpoints/node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { decodeModelFileTensor, readModelFileEntries, readTorchCheckpoint } from '@tfjs-diffusion/checkpoints';
import { createNetwork, parameterShapes } from '@tfjs-diffusion/networks';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';
import { convertAdmCheckpointTo, countTorchParameters, planAdmModel, publishedModelFlags } from '../dist/index.js';

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const peak = () => process.resourceUsage().maxRSS * 1024;

if (process.argv[2] === '--convert') {
  // streamed: the .pt read range by range, the output written tensor by tensor
  const [, , , input, preset, out] = process.argv;
  const started = performance.now();
  const source = fileByteSource(input);
  const converted = writeFileStreamAtomically(out, (write) =>
    convertAdmCheckpointTo({ ...publishedModelFlags(preset), weights: readTorchCheckpoint(source, input), dtype: 'F16' }, write),
  );
  source.close();
  console.log(
    JSON.stringify({
      preset,
      parameters: converted.parameterCount,
      outputBytes: converted.byteLength,
      convertSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      convertPeakRss: mib(peak()),
    }),
  );
  process.exit(0);
}

if (process.argv[2] === '--load') {
  // a denoiser: loadPipeline of a path (the header read, then the network built reading and decoding
  // one tensor at a time); a classifier: the same reading, the network built directly
  const [, , , file, backend = 'wasm', forward] = process.argv;
  await tf.setBackend(backend);
  await tf.ready();
  const started = performance.now();
  const source = fileByteSource(file);
  const entries = readModelFileEntries(source, file);
  let model;
  if (entries.metadata.network.type === 'classifier') {
    const network = createNetwork(entries.metadata.network, {
      parameterSource: (name) => decodeModelFileTensor(source, entries, entries.tensors.get(name)).data,
    });
    model = {
      shape: entries.metadata.data.shape,
      labels: false,
      run: (x, timesteps) => network.logits({ x, timesteps }),
      dispose: () => network.dispose(),
    };
  } else {
    const pipeline = await loadPipeline(file);
    model = {
      shape: pipeline.dataShape,
      labels: pipeline.conditioning !== null,
      run: (x, timesteps, labels) => pipeline.model.predict({ x, timesteps, ...(labels ? { condition: { classLabels: labels } } : {}) }).prediction,
      dispose: () => pipeline.dispose(),
    };
  }
  source.close();
  const loadSeconds = (performance.now() - started) / 1000;
  const result = { file, backend, loadSeconds: Number(loadSeconds.toFixed(1)), loadPeakRss: mib(peak()) };
  if (forward === 'forward') {
    const [size, , channels] = model.shape;
    const x = tf.randomNormal([1, size, size, channels]);
    const timesteps = tf.tensor1d([500]);
    const labels = model.labels ? tf.tensor1d([1], 'int32') : null;
    const bytesBefore = tf.memory().numBytes;
    const forwardStarted = performance.now();
    // tf.profile: the most tensor bytes alive at once during the forward (weights excluded: they exist before)
    const profile = await tf.profile(() => tf.tidy(() => model.run(x, timesteps, labels)));
    const output = profile.result;
    await output.data();
    result.forwardSeconds = Number(((performance.now() - forwardStarted) / 1000).toFixed(1));
    result.forwardPeakRss = mib(peak());
    result.forwardPeakTensorBytes = mib(profile.peakBytes - bytesBefore);
    tf.dispose([x, timesteps, output, ...(labels ? [labels] : [])]);
  }
  console.log(JSON.stringify(result));
  model.dispose();
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
