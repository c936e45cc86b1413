import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { DiffusionPipeline } from '@tfjs-diffusion/pipelines';
import type { GenerateWorkerInit } from './generate-handler.js';
import { createGeneratePool, type PooledGenerateOptions } from './generate-pool.js';

/** Backends whose engine runs one per worker thread (webgpu and tensorflow share one device: in-process). */
const THREADED_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/**
 * How many worker threads suit data-parallel sampling of `jobs` slices on `backend`: one per core,
 * at most one per slice, on backends with one engine per thread (wasm, cpu); 0 (the calling
 * thread) on other backends or for a single slice.
 */
export function defaultWorkerCount(backend: string, jobs: number): number {
  if (!THREADED_BACKENDS.includes(backend) || jobs < 2) return 0;
  return Math.min(availableParallelism(), jobs);
}

/** Options of `generateInParallel`: a pooled generate call plus where it runs. */
export type ParallelGenerateOptions = Omit<PooledGenerateOptions, 'noiseSeeds'> & {
  /** The model file (and classifier) the pipeline was loaded from: each worker loads the same. */
  readonly files: GenerateWorkerInit;
  /** The calling thread's backend, which every worker starts too. */
  readonly backend: string;
  /** Worker threads; below 2: the calling thread (default: defaultWorkerCount of the backend and slices). */
  readonly workers?: number;
};

/**
 * `pipeline.generate` on the calling thread, or spread over worker threads (createGeneratePool)
 * in slices of `imagesPerJob` (default batchSize, else 16) images. Image i always draws from the
 * noise stream imageNoiseSeed(seed, i), so the images are the same for any batch size, slice size
 * or worker count. `onProgress` follows each finished slice (on the calling thread: each batch).
 */
export async function generateInParallel(pipeline: DiffusionPipeline, options: ParallelGenerateOptions): Promise<tf.Tensor4D> {
  const { files, backend, workers: requested, imagesPerJob, onProgress, ...generate } = options;
  const total = generate.labels?.length ?? generate.count ?? 0;
  const slice = imagesPerJob ?? generate.batchSize ?? 16;
  if (!Number.isSafeInteger(slice) || slice < 1)
    throw new DiffusionError('invalid-argument', `generateInParallel: imagesPerJob must be a positive integer, got ${String(slice)}`);
  const jobs = Math.ceil(total / slice);
  const workers = Math.min(requested ?? defaultWorkerCount(backend, jobs), jobs);
  if (workers < 2) {
    const batchSize = generate.batchSize ?? slice;
    const { images } = await pipeline.generate({
      ...generate,
      batchSize,
      ...(onProgress
        ? {
            onStep: (event) => {
              if (event.step === event.totalSteps - 1) onProgress(Math.min(total, event.firstImage + batchSize), total);
            },
          }
        : {}),
    });
    return images;
  }
  const pool = await createGeneratePool({ ...files, workers, backend });
  try {
    const { images, shape } = await pool.generate({ ...generate, imagesPerJob: slice, ...(onProgress ? { onProgress } : {}) });
    return tf.tensor4d(images, shape as [number, number, number, number]);
  } finally {
    await pool.close();
  }
}
