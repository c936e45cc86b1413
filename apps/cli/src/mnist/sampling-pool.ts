import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import { imageNoiseSeed, type DiffusionPipeline } from '@tfjs-diffusion/pipelines';
import { batchRanges, batchSeed, generateSettings, sampleImages, type SampleImagesOptions, type SamplingSettings } from './sampling.js';

/** What every sampling worker loads once: the same files and settings as the calling command. */
export interface SamplingWorkerJob {
  readonly checkpoint: string;
  readonly weights: 'ema' | 'model';
  /** The noise-aware classifier, for classifier guidance. */
  readonly classifier?: string;
  /** The tfjs backend each worker starts (its own engine: 'wasm' or 'cpu'). */
  readonly backend: string;
  readonly settings: SamplingSettings;
  readonly dataShape: readonly number[];
}

export type SamplingWorkerRequest =
  | { readonly type: 'init'; readonly job: SamplingWorkerJob }
  | { readonly type: 'batch'; readonly labels: Int32Array; readonly seed: string }
  | {
      readonly type: 'generate';
      readonly labels: Int32Array;
      readonly conditional: boolean;
      readonly noiseSeeds: readonly string[];
      readonly unconditional: boolean;
    }
  | { readonly type: 'dispose' };

export type SamplingWorkerReply =
  { readonly type: 'ready' } | { readonly type: 'images'; readonly images: Float32Array } | { readonly type: 'disposed' };

type ReplyMessage = { id: number; ok: true; reply: SamplingWorkerReply } | { id: number; ok: false; message: string };

/** Backends whose engines can run one per worker thread (webgpu/tensorflow share one device: in-process). */
const THREADED_BACKENDS = ['wasm', 'cpu'];

/**
 * How many worker threads to sample with: `requested` when given, else one per core (at most one
 * per batch) on wasm/cpu, and 0 (the calling thread) for other backends or a single batch.
 */
export function samplingWorkerCount(requested: number | undefined, backend: string, batches: number): number {
  if (requested !== undefined) return Math.min(requested, batches);
  if (!THREADED_BACKENDS.includes(backend) || batches < 2) return 0;
  return Math.min(availableParallelism(), batches);
}

/** The built worker entry: next to this module, or the CLI's dist/ when this module runs from source (tests). */
function workerUrl(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/mnist/sampling-worker.js', here) : new URL('./sampling-worker.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new DiffusionError('backend-unavailable', `the sampling worker ${fileURLToPath(url)} is missing; build the CLI (pnpm build)`);
  }
  return url;
}

class SamplingWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(reply: SamplingWorkerReply): void; reject(error: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(url: URL) {
    // Source-resolution flags (--conditions=@tfjs-diffusion/source) would make the worker import .ts files.
    const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--conditions') && !flag.startsWith('-C'));
    this.worker = new Worker(url, { execArgv });
    this.worker.on('message', (message: ReplyMessage) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.ok) waiting.resolve(message.reply);
      else waiting.reject(new DiffusionError('invalid-argument', `sampling worker: ${message.message}`));
    });
    const failAll = (error: Error) => {
      this.failure ??= error;
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`sampling worker exited (code ${code})`)));
  }

  request(request: SamplingWorkerRequest): Promise<SamplingWorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    if (!this.failure) await this.request({ type: 'dispose' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

/**
 * sampleImages spread over worker threads (data parallelism over whole batches): each worker
 * loads the model once and draws the batches it is handed, batch b with the noise of
 * batchSeed(seed, b), so the images are identical to sampleImages' on the calling thread.
 */
export async function sampleImagesInWorkers(
  job: SamplingWorkerJob,
  labels: Int32Array,
  seed: number | string,
  workers: number,
  onBatch?: (done: number, total: number) => void,
): Promise<Float32Array> {
  if (!Number.isInteger(workers) || workers < 1) throw new DiffusionError('invalid-argument', `workers must be an integer >= 1, got ${workers}`);
  const url = workerUrl();
  const imageSize = job.dataShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(labels.length * imageSize);
  const ranges = batchRanges(labels.length, job.settings.batchSize);
  const pool = Array.from({ length: Math.min(workers, ranges.length) }, () => new SamplingWorker(url));
  let done = 0;
  try {
    await Promise.all(pool.map((worker) => worker.request({ type: 'init', job })));
    let next = 0;
    // each worker takes the next batch as soon as it is free
    await Promise.all(
      pool.map(async (worker) => {
        while (next < ranges.length) {
          const index = next;
          next += 1;
          const { start, end } = ranges[index] as { start: number; end: number };
          const reply = await worker.request({ type: 'batch', labels: labels.slice(start, end), seed: batchSeed(seed, index) });
          if (reply.type !== 'images') throw new Error(`sampling worker: expected images, got ${reply.type}`);
          out.set(reply.images, start * imageSize);
          done += end - start;
          onBatch?.(done, labels.length);
        }
      }),
    );
  } finally {
    await Promise.all(pool.map((worker) => worker.close()));
  }
  return out;
}

/**
 * Draws the images on the calling thread or, when worth it (see samplingWorkerCount), on worker
 * threads that load the same files; the images are the same either way.
 */
export async function drawImages(
  options: SampleImagesOptions & { readonly files: Omit<SamplingWorkerJob, 'settings' | 'dataShape'> },
): Promise<Float32Array> {
  const batches = batchRanges(options.labels.length, options.settings.batchSize).length;
  const workers = samplingWorkerCount(options.settings.workers, options.files.backend, batches);
  if (workers < 2) return sampleImages(options);
  const job: SamplingWorkerJob = { ...options.files, settings: options.settings, dataShape: options.dataShape };
  return sampleImagesInWorkers(job, options.labels, options.seed, workers, options.onBatch);
}

export interface GenerateInPoolOptions {
  /** The pipeline on the calling thread (used when no workers are worth it, and for the data shape). */
  readonly pipeline: DiffusionPipeline;
  /** The files each worker loads (the same as the pipeline's). */
  readonly files: Omit<SamplingWorkerJob, 'settings' | 'dataShape'>;
  readonly settings: SamplingSettings;
  /** One image per label (for a model without classes: one image per entry, the values unused). */
  readonly labels: Int32Array;
  /** False for a model without classes: the images are drawn with `count` instead of labels. */
  readonly conditional: boolean;
  readonly seed: number | string;
  readonly unconditional?: boolean;
  readonly onImages?: (done: number, total: number) => void;
}

/**
 * `pipeline.generate` for the CLI: on the calling thread, or spread over worker threads in chunks
 * of `settings.batchSize` images (each worker loads the same files). Image i always draws from the
 * noise stream imageNoiseSeed(seed, i), so the images are the same for any batch size or worker count.
 */
export async function generateInPool(options: GenerateInPoolOptions): Promise<tf.Tensor4D> {
  const { pipeline, settings, labels, seed } = options;
  const unconditional = options.unconditional === true;
  const ranges = batchRanges(labels.length, settings.batchSize);
  const workers = samplingWorkerCount(settings.workers, options.files.backend, ranges.length);
  if (workers < 2) {
    const { images } = await pipeline.generate({
      ...generateSettings(settings),
      ...(options.conditional ? { labels: Array.from(labels) } : { count: labels.length }),
      seed,
      unconditional,
      onStep: (event) => {
        if (event.step === event.totalSteps - 1) options.onImages?.(Math.min(labels.length, event.firstImage + settings.batchSize), labels.length);
      },
    });
    return images;
  }
  const imageSize = pipeline.dataShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(labels.length * imageSize);
  const job: SamplingWorkerJob = { ...options.files, settings, dataShape: pipeline.dataShape };
  const pool = Array.from({ length: workers }, () => new SamplingWorker(workerUrl()));
  let done = 0;
  try {
    await Promise.all(pool.map((worker) => worker.request({ type: 'init', job })));
    let next = 0;
    // each worker takes the next chunk as soon as it is free
    await Promise.all(
      pool.map(async (worker) => {
        while (next < ranges.length) {
          const { start, end } = ranges[next] as { start: number; end: number };
          next += 1;
          const noiseSeeds = Array.from({ length: end - start }, (_, offset) => imageNoiseSeed(seed, start + offset));
          const reply = await worker.request({
            type: 'generate',
            labels: labels.slice(start, end),
            conditional: options.conditional,
            noiseSeeds,
            unconditional,
          });
          if (reply.type !== 'images') throw new Error(`sampling worker: expected images, got ${reply.type}`);
          out.set(reply.images, start * imageSize);
          done += end - start;
          options.onImages?.(done, labels.length);
        }
      }),
    );
  } finally {
    await Promise.all(pool.map((worker) => worker.close()));
  }
  return tf.tensor4d(out, [labels.length, ...pipeline.dataShape] as [number, number, number, number]);
}
