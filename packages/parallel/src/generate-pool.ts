import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiffusionError } from '@tfjs-diffusion/core';
import { imageNoiseSeed } from '@tfjs-diffusion/pipelines';
import type { GenerateJob, GenerateJobResult, GenerateWorkerInit } from './generate-handler.js';
import { createWorkerPool, type WorkerPool } from './worker-pool.js';

/** Options of a pooled generate call: a GenerateJob with one `seed` (image i uses imageNoiseSeed(seed, i)) or explicit noiseSeeds. */
export type PooledGenerateOptions = Omit<GenerateJob, 'noiseSeeds'> & {
  readonly seed?: number | string;
  readonly noiseSeeds?: readonly (number | string)[];
  /** Images per job handed to a worker (default: batchSize, else 16). */
  readonly imagesPerJob?: number;
  /** After each job, with the images done so far. */
  readonly onProgress?: (done: number, total: number) => void;
};

/** Worker threads that each hold the same pipeline and draw shares of the images of one generate call. */
export interface GeneratePool {
  readonly workers: number;
  readonly backend: string | null;
  /** The images of `pipeline.generate(options)`, drawn in slices on the workers: identical for any worker count and slice size. */
  generate(options: PooledGenerateOptions): Promise<GenerateJobResult>;
  close(): Promise<void>;
}

function handlerUrl(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/generate-handler.js', here) : new URL('./generate-handler.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new DiffusionError('backend-unavailable', `@tfjs-diffusion/parallel: ${fileURLToPath(url)} is missing; build the package (pnpm build)`);
  }
  return url;
}

/**
 * Data-parallel sampling: `workers` threads each load the model file once (on `backend`) and draw
 * whole slices of images; every image has its own noise stream (pipelines' per-image seeds), so the
 * result equals one `generate` call on the calling thread whatever the split.
 */
export async function createGeneratePool(
  options: GenerateWorkerInit & { readonly workers: number; readonly backend?: string },
): Promise<GeneratePool> {
  const { workers, backend, ...init } = options;
  const pool: WorkerPool<GenerateJob, GenerateJobResult> = await createWorkerPool({
    size: workers,
    handlerModule: handlerUrl(),
    init,
    ...(backend ? { backend } : {}),
  });
  return {
    workers,
    backend: pool.backend,
    async generate(request) {
      const { seed = 0, noiseSeeds, imagesPerJob, onProgress, labels, count, ...rest } = request;
      const total = labels?.length ?? count ?? 0;
      if (!Number.isSafeInteger(total) || total < 1) throw new DiffusionError('invalid-argument', 'generate: give labels or a positive count');
      if (noiseSeeds && noiseSeeds.length !== total)
        throw new DiffusionError('invalid-argument', `generate: ${noiseSeeds.length} noiseSeeds for ${total} images`);
      const slice = imagesPerJob ?? rest.batchSize ?? 16;
      const jobs: GenerateJob[] = [];
      for (let start = 0; start < total; start += slice) {
        const end = Math.min(total, start + slice);
        const seeds = Array.from({ length: end - start }, (_, offset) => noiseSeeds?.[start + offset] ?? imageNoiseSeed(seed, start + offset));
        jobs.push({ ...rest, ...(labels ? { labels: labels.slice(start, end) } : { count: end - start }), noiseSeeds: seeds });
      }
      let done = 0;
      const results = await pool.map(jobs, (index) => {
        done += (jobs[index] as GenerateJob).noiseSeeds.length;
        onProgress?.(done, total);
      });
      const [, height, width, channels] = (results[0] as GenerateJobResult).shape;
      const images = new Float32Array(total * height * width * channels);
      let offset = 0;
      for (const result of results) {
        images.set(result.images, offset);
        offset += result.images.length;
      }
      return { images, shape: [total, height, width, channels] };
    },
    close: () => pool.close(),
  };
}
