// The process that times our side of the large-images benchmark (started by benchLargeImages, one
// per batch size so that its max RSS is that batch size's): a converted model file loaded with
// loadPipeline on the requested backend (wasm + the native kernels by default, on the main thread,
// with their default thread count; webgpu on Dawn, npm `webgpu`, without the native kernels), `predict`
// without a tape, one JSON line on stdout. Each timed forward ends with its output read back to the
// host (`await data()`), so on webgpu the time includes the GPU finishing the work.
//
//   node dist/large-images-ours-runner.js '{"modelFile": ..., "input": ..., "output": ..., "iterations": 3, "warmup": 1, "backend": "wasm"}'
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeKernels, selectBackend } from '@tfjs-diffusion/backends/node';
import type { BackendName } from '@tfjs-diffusion/core';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';
import { kernelFlops, type ProfiledKernel } from './flop-count.js';
import { nchwToNhwc, nhwcToNchw, readLargeImagesInput, summariseOutput, writeFloat32File } from './large-images-files.js';
import { maxRssMiB, processCpuSeconds, round } from './large-images-process-figures.js';
import { profileRows, type KernelTimes } from './profile-table.js';
import { median } from './round-summary.js';

interface OursRequest {
  readonly modelFile: string;
  readonly input: string;
  readonly output?: string;
  readonly iterations: number;
  readonly warmup: number;
  readonly backend: BackendName;
}

const request = JSON.parse(process.argv[2] ?? '{}') as OursRequest;
const rssBeforeLoad = maxRssMiB();
const choice = await selectBackend(request.backend);
// the native kernels serve cpu and wasm only: on webgpu their addon (and its kernel threads) stays unloaded
const native = request.backend === 'webgpu' ? undefined : await loadNativeKernels();
const threadCpuSeconds = native?.available ? () => native.addon.threadCpuSeconds() : undefined;
const nativeThreads = native?.available ? native.addon.info().threads : 0;

let started = performance.now();
const pipeline = await loadPipeline(request.modelFile);
const loadSeconds = (performance.now() - started) / 1000;
const rssAfterLoad = maxRssMiB();
const parameters = [...pipeline.parameters.values()].reduce((total, variable) => total + variable.size, 0);

const input = readLargeImagesInput(request.input);
const [height, width, channels] = pipeline.dataShape;
if (height !== input.size || width !== input.size || channels !== input.channels)
  throw new Error(`the model file takes [${pipeline.dataShape.join(', ')}] images; the input holds ${input.size}x${input.size}x${input.channels}`);
const x = tf.tensor4d(nchwToNhwc(input.x, input.batch, input.size, input.channels), [input.batch, input.size, input.size, input.channels]);
const timesteps = tf.tensor1d(Float32Array.from(input.timesteps));
const classLabels = input.labels === null ? undefined : tf.tensor1d(Int32Array.from(input.labels), 'int32');

/** One forward: the prediction and, with a learned variance, the variance values after it (the original's 2C output channels). */
const forward = (): tf.Tensor4D =>
  tf.tidy(() => {
    const result = pipeline.model.predict({ x, timesteps, ...(classLabels ? { condition: { classLabels } } : {}) });
    return (result.varianceValues ? tf.concat([result.prediction, result.varianceValues], 3) : result.prediction) as tf.Tensor4D;
  });

for (let step = 0; step < request.warmup; step += 1) {
  // read back, so that no untimed GPU work is still running when the timing starts
  const output = forward();
  await output.data();
  output.dispose();
}
const walls: number[] = [];
const cpuStart = processCpuSeconds();
const threadStart = threadCpuSeconds?.() ?? 0;
let values: Float32Array = new Float32Array(0);
let outputShape: number[] = [];
for (let step = 0; step < request.iterations; step += 1) {
  started = performance.now();
  const output = forward();
  // read back inside the timing, as the peers hand back a computed tensor (on webgpu: after the GPU finished; dataSync cannot read it in Node)
  values = (await output.data()) as Float32Array;
  outputShape = output.shape;
  output.dispose();
  walls.push((performance.now() - started) / 1000);
}
const cpuSeconds = processCpuSeconds() - cpuStart;
const threadSeconds = threadCpuSeconds === undefined ? undefined : threadCpuSeconds() - threadStart;
const rssAfterTiming = maxRssMiB();
// tfjs-backend-webgpu's own account of its GPU buffers (live tensors, and all it holds with its pool of freed ones)
const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
const gpuBytes = {
  ...(typeof memory.numBytesInGPU === 'number' ? { tfjs_gpu_in_use_mib: round(memory.numBytesInGPU / 2 ** 20, 1) } : {}),
  ...(typeof memory.numBytesAllocatedInGPU === 'number' ? { tfjs_gpu_allocated_mib: round(memory.numBytesAllocatedInGPU / 2 ** 20, 1) } : {}),
};

// untimed: one more forward under tf.profile for the live-tensor peak and the kernels' FLOPs
const weightsBytes = tf.memory().numBytes;
const profile = await tf.profile(() => {
  forward().dispose();
});
const flops = profile.kernels.reduce((total, kernel) => total + kernelFlops(kernel as unknown as ProfiledKernel), 0);
// where the profiled forward's time went, by kernel name (wall milliseconds of each kernel call, summed)
const kernelTimes: Record<string, { milliseconds: number; calls: number }> = {};
for (const kernel of profile.kernels) {
  // 'fusedConv2d__op' and the like are the scopes of ops with a custom gradient, around the kernel itself: not counted twice
  if (kernel.name.endsWith('__op')) continue;
  const entry = (kernelTimes[kernel.name] ??= { milliseconds: 0, calls: 0 });
  entry.milliseconds += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
  entry.calls += 1;
}

const [batch, outputHeight, outputWidth, outputChannels] = outputShape as [number, number, number, number];
const nchw = nhwcToNchw(values, batch, outputHeight, outputChannels);
if (request.output !== undefined) writeFloat32File(request.output, nchw);
const summary = summariseOutput(nchw, [batch, outputChannels, outputHeight, outputWidth]);
tf.dispose([x, timesteps, ...(classLabels ? [classLabels] : [])]);
pipeline.dispose();

console.log(
  JSON.stringify({
    peer: 'ours',
    version: `tfjs-core ${tf.version_core}`,
    threads: Math.max(1, nativeThreads),
    batch,
    iterations: request.iterations,
    warmup: request.warmup,
    parameters,
    load_s: round(loadSeconds, 3),
    wall_s: walls.map((wall) => round(wall, 4)),
    wall_s_per_forward: round(median(walls), 4),
    cpu_s_per_forward: round(cpuSeconds / request.iterations, 4),
    max_rss_before_load_mib: round(rssBeforeLoad, 1),
    max_rss_after_load_mib: round(rssAfterLoad, 1),
    // the max RSS of the timed forwards (the profiled forward after them keeps its kernel records)
    max_rss_mib: round(rssAfterTiming, 1),
    output: { shape: summary.shape, sum: summary.sum, max_abs: summary.maxAbs, first: summary.first },
    backend: tf.getBackend(),
    backend_reason: choice.reason,
    native_threads: nativeThreads,
    ...(threadSeconds === undefined ? {} : { thread_cpu_s_per_forward: round(threadSeconds / request.iterations, 4) }),
    weights_mib: round(weightsBytes / 2 ** 20, 1),
    tensor_peak_mib: round(profile.peakBytes / 2 ** 20, 1),
    ...gpuBytes,
    flops,
    kernels: profileRows(kernelTimes as KernelTimes).slice(0, 12),
  }),
);
