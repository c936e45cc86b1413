import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import { handleRequest, type ReplicaSlot } from './replica-handler.js';
import { transferables, type ReplicaReplies, type ReplicaRequest, type ReplyMessage } from './worker-protocol.js';
import { workerExecArgv } from './worker-exec-argv.js';

/** Something that runs replica requests: a worker thread or the calling thread. */
export interface ReplicaHost {
  request<Type extends ReplicaRequest['type']>(request: Extract<ReplicaRequest, { type: Type }>): Promise<ReplicaReplies[Type]>;
  close(): Promise<void>;
}

/**
 * The built worker entry: dist/worker-entry.js next to this module, or, when this module runs from
 * its TypeScript source (tests), the package's dist/worker-entry.js (build the package first).
 */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/worker-entry.js', here) : new URL('./worker-entry.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new DiffusionError(
      'backend-unavailable',
      `@tfjs-diffusion/parallel: the worker entry ${fileURLToPath(url)} is missing; build the package (pnpm build)`,
    );
  }
  return url;
}

/** A replica in a worker thread (its own tfjs engine and backend). */
export function createWorkerHost(workerUrl: URL): ReplicaHost {
  const worker = new Worker(workerUrl, { execArgv: workerExecArgv() });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('message', (reply: ReplyMessage) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(Object.assign(new Error(`replica worker: ${reply.message}`), { stack: reply.stack }));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`replica worker exited (code ${code})`)));
  return {
    request(request) {
      if (failure) return Promise.reject(failure);
      const id = nextId;
      nextId += 1;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        worker.postMessage({ id, request }, transferables(request));
      });
    },
    async close() {
      if (!failure) {
        await this.request({ type: 'dispose' }).catch(() => undefined);
      }
      await worker.terminate();
    },
  };
}

/** A replica on the calling thread, with the tfjs backend that is active (or `backend`, started here). */
export function createLocalHost(): ReplicaHost {
  const slot: ReplicaSlot = { replica: undefined };
  return {
    request(request) {
      return handleRequest(slot, request, async (backend) => {
        if (backend !== 'current' && tf.getBackend() !== backend) {
          const { selectBackend } = await import('@tfjs-diffusion/backends/node');
          await selectBackend(backend as Parameters<typeof selectBackend>[0]);
        }
        return { backend: tf.getBackend(), reason: 'in-process' };
      }) as never;
    },
    async close() {
      await handleRequest(slot, { type: 'dispose' }, async () => ({ backend: '', reason: '' }));
    },
  };
}
