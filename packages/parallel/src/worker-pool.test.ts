import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorkerPool } from './worker-pool.js';

// Workers run the built entry (dist/pool-worker-entry.js); build it when missing.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
beforeAll(() => {
  if (!existsSync(`${packageRoot}dist/pool-worker-entry.js`)) {
    execSync('pnpm exec turbo run build --filter=@tfjs-diffusion/parallel... --output-logs=errors-only', {
      cwd: `${packageRoot}../..`,
      stdio: 'inherit',
    });
  }
}, 120_000);

// A handler module as a user writes one: made once per worker from `init`, then runs jobs.
const handlerModule = join(mkdtempSync(join(tmpdir(), 'tfjs-diffusion-pool-')), 'scale-handler.mjs');
writeFileSync(
  handlerModule,
  `import { threadId } from 'node:worker_threads';
export async function createJobHandler(init) {
  if (init.fail) throw new Error('cannot load ' + init.fail);
  let jobs = 0;
  return {
    async run(job) {
      if (job.values[0] < 0) throw new Error('negative input ' + job.values[0]);
      jobs += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { scaled: Float32Array.from(job.values, (value) => value * init.factor), threadId, jobs };
    },
  };
}
`,
);

describe('createWorkerPool', () => {
  it('spreads jobs over the workers and returns the results in job order', async () => {
    const pool = await createWorkerPool<{ factor: number }, { values: Float32Array }, { scaled: Float32Array; threadId: number; jobs: number }>({
      size: 3,
      handlerModule,
      init: { factor: 2.5 },
    });
    try {
      const jobs = Array.from({ length: 9 }, (_, index) => ({ values: Float32Array.from([index, index + 0.5]) }));
      const seen: number[] = [];
      const results = await pool.map(jobs, (index) => seen.push(index));
      expect(results.map((result) => Array.from(result.scaled))).toEqual(jobs.map((_, index) => [2.5 * index, 2.5 * (index + 0.5)]));
      expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      // three threads, each with its own handler, took a share of the nine jobs
      expect(new Set(results.map((result) => result.threadId)).size).toBe(3);
      expect(Math.max(...results.map((result) => result.jobs))).toBeGreaterThanOrEqual(3);
      await expect(pool.run({ values: Float32Array.from([-1]) })).rejects.toThrow(/pool worker: negative input -1/);
      expect(Array.from((await pool.run({ values: Float32Array.from([4]) })).scaled)).toEqual([10]);
    } finally {
      await pool.close();
    }
    await expect(pool.run({ values: Float32Array.from([1]) })).rejects.toThrow(/closed/);
  });

  it('fails to start, naming the cause, when a handler cannot be made', async () => {
    await expect(createWorkerPool({ size: 2, handlerModule, init: { factor: 1, fail: 'model.safetensors' } })).rejects.toThrow(
      /cannot load model\.safetensors/,
    );
    await expect(createWorkerPool({ size: 0, handlerModule, init: {} })).rejects.toThrow(/size must be an integer >= 1/);
  });
});
