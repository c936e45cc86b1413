import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultWorkerCount, generateInParallel } from './generate-in-parallel.js';

// Workers run the built handler (dist/generate-handler.js) and the built pipelines package.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const MODEL = fileURLToPath(new URL('../../../models/mnist-unet.safetensors', import.meta.url));
beforeAll(async () => {
  if (!existsSync(`${packageRoot}dist/generate-handler.js`)) {
    execSync('pnpm exec turbo run build --filter=@tfjs-diffusion/parallel... --output-logs=errors-only', {
      cwd: `${packageRoot}../..`,
      stdio: 'inherit',
    });
  }
  await selectBackend('wasm');
}, 120_000);

describe('defaultWorkerCount', () => {
  it('is one per core, at most one per slice, on wasm and cpu; 0 for one slice or a shared-device backend', () => {
    expect(defaultWorkerCount('wasm', 3)).toBe(Math.min(availableParallelism(), 3));
    expect(defaultWorkerCount('cpu', 1000)).toBe(availableParallelism());
    expect(defaultWorkerCount('wasm', 1)).toBe(0);
    expect(defaultWorkerCount('webgpu', 8)).toBe(0);
    expect(defaultWorkerCount('tensorflow', 8)).toBe(0);
  });
});

describe('generateInParallel', () => {
  it('draws the same images on the calling thread and on two workers, for any batch and slice size', async () => {
    const settings = { labels: [2, 5, 5, 8, 0], sampler: 'ddpm', steps: 2, guidance: 'cfg', scale: 1, seed: 'parallel' } as const;
    const files = { model: MODEL };
    const pipeline = await loadPipeline(MODEL);
    try {
      const progress: number[] = [];
      const inline = await generateInParallel(pipeline, {
        ...settings,
        batchSize: 2,
        files,
        backend: 'wasm',
        workers: 0,
        onProgress: (done, total) => progress.push(done / total),
      });
      // three batches of 2, 2 and 1 images, each reported after its last step
      expect(progress).toEqual([2 / 5, 4 / 5, 1]);
      const expected = Array.from(await inline.data());
      expect(inline.shape).toEqual([5, 28, 28, 1]);
      inline.dispose();

      const pooledProgress: number[] = [];
      const pooled = await generateInParallel(pipeline, {
        ...settings,
        batchSize: 5,
        imagesPerJob: 3,
        files,
        backend: 'wasm',
        workers: 2,
        onProgress: (done) => pooledProgress.push(done),
      });
      expect(pooled.shape).toEqual([5, 28, 28, 1]);
      expect(Array.from(await pooled.data())).toEqual(expected);
      pooled.dispose();
      // slices of 3 and 2 images, in the order they finish
      expect(pooledProgress).toHaveLength(2);
      expect([2, 3]).toContain(pooledProgress[0]);
      expect(pooledProgress[1]).toBe(5);

      const otherSeed = await generateInParallel(pipeline, { ...settings, seed: 'other', files, backend: 'wasm', workers: 0 });
      expect(Array.from(await otherSeed.data())).not.toEqual(expected);
      otherSeed.dispose();
    } finally {
      pipeline.dispose();
    }
  });
});
