import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DiffusionError } from '@tfjs-diffusion/core';
import { transferables } from './worker-protocol.js';
import { workerExecArgv } from './worker-exec-argv.js';

/** What a pool worker runs: made once per worker by the handler module's `createJobHandler(init)`. */
export interface JobHandler<Job, Result> {
  run(job: Job): Result | Promise<Result>;
  dispose?(): void | Promise<void>;
}

/** The export a handler module must have (`export async function createJobHandler(init) { ... }`). */
export type JobHandlerFactory<Init, Job, Result> = (init: Init) => JobHandler<Job, Result> | Promise<JobHandler<Job, Result>>;

export interface WorkerPoolOptions<Init> {
  /** Worker threads (at least 1). */
  readonly size: number;
  /** The built ES module each worker imports: it exports `createJobHandler` (a file: URL, or an absolute path). */
  readonly handlerModule: URL | string;
  /** Passed to every worker's `createJobHandler` (structured-cloneable). */
  readonly init: Init;
  /** A tfjs backend each worker starts (selectBackend of @tfjs-diffusion/backends/node) before its handler is made. */
  readonly backend?: string;
}

/** Worker threads that each hold one handler (e.g. a loaded model) and run jobs handed to the next free one. */
export interface WorkerPool<Job, Result> {
  readonly size: number;
  /** The backend each worker runs on (when `backend` was given), as the first worker reports it. */
  readonly backend: string | null;
  /** Runs one job on the next free worker. */
  run(job: Job): Promise<Result>;
  /** Runs every job (spread over the workers) and resolves to the results in the order of `jobs`. */
  map(jobs: readonly Job[], onResult?: (index: number, result: Result) => void): Promise<Result[]>;
  close(): Promise<void>;
}

type PoolRequest =
  | { readonly type: 'init'; readonly handlerModule: string; readonly init: unknown; readonly backend?: string }
  | { readonly type: 'job'; readonly job: unknown }
  | { readonly type: 'dispose' };
export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly stack?: string };
export type { PoolRequest };

/** The built generic worker entry (dist/pool-worker-entry.js; from the sources, the package's dist). */
function poolWorkerUrl(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/pool-worker-entry.js', here) : new URL('./pool-worker-entry.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new DiffusionError(
      'backend-unavailable',
      `@tfjs-diffusion/parallel: the worker entry ${fileURLToPath(url)} is missing; build the package (pnpm build)`,
    );
  }
  return url;
}

class PoolWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(url: URL) {
    this.worker = new Worker(url, { execArgv: workerExecArgv() });
    this.worker.on('message', (reply: PoolReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.result);
      else
        waiting.reject(
          Object.assign(new DiffusionError('invalid-argument', `pool worker: ${reply.message}`), reply.stack ? { stack: reply.stack } : {}),
        );
    });
    const failAll = (error: Error) => {
      this.failure ??= error;
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new DiffusionError('invalid-argument', `pool worker exited (code ${code})`)));
  }

  request(request: PoolRequest): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, request }, request.type === 'job' ? transferables(request.job) : []);
    });
  }

  async close(): Promise<void> {
    if (!this.failure) await this.request({ type: 'dispose' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

/**
 * Starts `size` worker threads (each its own tfjs engine), has each import `handlerModule` and make
 * its handler from `init` (e.g. load a model once), and returns a pool that hands each job to the
 * next free worker. Typed arrays in jobs and results are transferred, not copied. Used for
 * data-parallel sampling (whole batches per worker) beside the replica trainer of this package.
 */
export async function createWorkerPool<Init, Job, Result>(options: WorkerPoolOptions<Init>): Promise<WorkerPool<Job, Result>> {
  if (!Number.isSafeInteger(options.size) || options.size < 1) {
    throw new DiffusionError('invalid-argument', `createWorkerPool: size must be an integer >= 1, got ${options.size}`);
  }
  const handlerModule =
    typeof options.handlerModule === 'string' && !/^[a-z]+:/.test(options.handlerModule)
      ? pathToFileURL(options.handlerModule).href
      : String(options.handlerModule);
  const url = poolWorkerUrl();
  const workers = Array.from({ length: options.size }, () => new PoolWorker(url));
  let backend: string | null = null;
  try {
    const started = await Promise.all(
      workers.map((worker) =>
        worker.request({ type: 'init', handlerModule, init: options.init, ...(options.backend ? { backend: options.backend } : {}) }),
      ),
    );
    backend = (started[0] as { backend: string | null }).backend;
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.close().catch(() => undefined)));
    throw error;
  }
  const idle = [...workers];
  const waiting: ((worker: PoolWorker) => void)[] = [];
  const acquire = (): Promise<PoolWorker> => {
    const worker = idle.pop();
    return worker ? Promise.resolve(worker) : new Promise((resolve) => waiting.push(resolve));
  };
  const release = (worker: PoolWorker): void => {
    const next = waiting.shift();
    if (next) next(worker);
    else idle.push(worker);
  };
  let closed = false;
  const run = async (job: Job): Promise<Result> => {
    if (closed) throw new DiffusionError('invalid-argument', 'the worker pool is closed');
    const worker = await acquire();
    try {
      return (await worker.request({ type: 'job', job })) as Result;
    } finally {
      release(worker);
    }
  };
  return {
    size: options.size,
    backend,
    run,
    async map(jobs, onResult) {
      return Promise.all(
        jobs.map(async (job, index) => {
          const result = await run(job);
          onResult?.(index, result);
          return result;
        }),
      );
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
