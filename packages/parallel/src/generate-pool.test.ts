import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGeneratePool } from './generate-pool.js';

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

describe('createGeneratePool', () => {
  it('draws the same images on two workers, in slices, as one generate call on this thread', async () => {
    const settings = { labels: [3, 7, 1, 0, 9], sampler: 'ddim', steps: 2, guidance: 'cfg', scale: 2, batchSize: 5 } as const;
    const pipeline = await loadPipeline(MODEL);
    const { images } = await pipeline.generate({ ...settings, seed: 11 });
    const expected = Array.from(await images.data());
    images.dispose();
    pipeline.dispose();
    const pool = await createGeneratePool({ model: MODEL, workers: 2, backend: 'wasm' });
    try {
      expect(pool.backend).toBe('wasm');
      const progress: number[] = [];
      const pooled = await pool.generate({ ...settings, seed: 11, imagesPerJob: 2, onProgress: (done) => progress.push(done) });
      expect(pooled.shape).toEqual([5, 28, 28, 1]);
      expect(Array.from(pooled.images)).toEqual(expected);
      expect(progress).toHaveLength(3);
      expect(Math.max(...progress)).toBe(5);
    } finally {
      await pool.close();
    }
  });
});
