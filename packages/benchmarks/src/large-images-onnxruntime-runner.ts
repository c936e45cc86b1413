// The process that times the onnxruntime-node peer of the large-images benchmark (started by
// benchLargeImages, one per batch size so that its max RSS is that batch size's): the ONNX export
// of adm_peer.py run by onnxruntime-node on CPU, resolved from ORT_DIR/node_modules (never from this
// project), with intraOpNumThreads = threads; one JSON line on stdout, as adm_peer.py prints.
//
//   node dist/large-images-onnxruntime-runner.js '{"model": ..., "ortDir": ..., "input": ..., "output": ..., "threads": 2, "iterations": 3, "warmup": 1}'
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readLargeImagesInput, summariseOutput, writeFloat32File } from './large-images-files.js';
import { maxRssMiB, processCpuSeconds, round } from './large-images-process-figures.js';
import { median } from './round-summary.js';

interface OnnxruntimeRequest {
  readonly model: string;
  readonly ortDir: string;
  readonly input: string;
  readonly output?: string;
  readonly threads: number;
  readonly iterations: number;
  readonly warmup: number;
}

/** The part of onnxruntime-node's API this runner uses. */
interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
interface OrtModule {
  readonly Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
  readonly InferenceSession: { create(path: string, options: Record<string, unknown>): Promise<OrtSession> };
}

const request = JSON.parse(process.argv[2] ?? '{}') as OnnxruntimeRequest;
const rssBeforeLoad = maxRssMiB();
const require = createRequire(join(request.ortDir, 'package.json'));
const ort = require('onnxruntime-node') as OrtModule;
const packageFile = join(dirname(require.resolve('onnxruntime-node')), '..', 'package.json');
const version = existsSync(packageFile) ? String((JSON.parse(readFileSync(packageFile, 'utf8')) as { version?: string }).version) : '';

let started = performance.now();
const session = await ort.InferenceSession.create(request.model, {
  executionProviders: ['cpu'],
  intraOpNumThreads: request.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const loadSeconds = (performance.now() - started) / 1000;
const rssAfterLoad = maxRssMiB();

const input = readLargeImagesInput(request.input);
const feeds: Record<string, OrtTensor> = {
  x: new ort.Tensor('float32', input.x, [input.batch, input.channels, input.size, input.size]),
  timesteps: new ort.Tensor(
    'int64',
    BigInt64Array.from(input.timesteps, (value) => BigInt(value)),
    [input.batch],
  ),
};
if (session.inputNames.includes('y')) {
  if (input.labels === null) throw new Error(`${request.model} takes class labels (y); the input has none`);
  feeds['y'] = new ort.Tensor(
    'int64',
    BigInt64Array.from(input.labels, (value) => BigInt(value)),
    [input.batch],
  );
}

for (let step = 0; step < request.warmup; step += 1) await session.run(feeds);
const walls: number[] = [];
const cpuStart = processCpuSeconds();
let output: OrtTensor | undefined;
for (let step = 0; step < request.iterations; step += 1) {
  started = performance.now();
  output = (await session.run(feeds))['output'];
  walls.push((performance.now() - started) / 1000);
}
const cpuSeconds = processCpuSeconds() - cpuStart;
if (output === undefined) throw new Error(`${request.model} has no output named 'output'`);
if (request.output !== undefined) writeFloat32File(request.output, output.data);
const summary = summariseOutput(output.data, output.dims);

console.log(
  JSON.stringify({
    peer: 'onnxruntime-node',
    version,
    threads: request.threads,
    batch: input.batch,
    iterations: request.iterations,
    warmup: request.warmup,
    load_s: round(loadSeconds, 3),
    wall_s: walls.map((wall) => round(wall, 4)),
    wall_s_per_forward: round(median(walls), 4),
    cpu_s_per_forward: round(cpuSeconds / request.iterations, 4),
    max_rss_before_load_mib: round(rssBeforeLoad, 1),
    max_rss_after_load_mib: round(rssAfterLoad, 1),
    max_rss_mib: round(maxRssMiB(), 1),
    output: { shape: summary.shape, sum: summary.sum, max_abs: summary.maxAbs, first: summary.first },
    // the CPU execution provider only (the npm package's CUDA provider needs files its install downloads)
    device: 'cpu',
  }),
);
