import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { JobHandler, JobHandlerFactory, PoolReply, PoolRequest } from './worker-pool.js';
import { transferables } from './worker-protocol.js';

// The entry of one worker-pool thread: starts a backend, imports the handler module, runs jobs in order.
const port = parentPort;
if (port === null) throw new Error('@tfjs-diffusion/parallel pool-worker-entry must run in a worker thread');
let handler: JobHandler<unknown, unknown> | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(request: PoolRequest): Promise<unknown> {
  switch (request.type) {
    case 'init': {
      let backend: string | null = null;
      if (request.backend) {
        const { selectBackend } = await import('@tfjs-diffusion/backends/node');
        await selectBackend(request.backend as Parameters<typeof selectBackend>[0]);
        backend = tf.getBackend();
      }
      const module = (await import(request.handlerModule)) as { createJobHandler?: JobHandlerFactory<unknown, unknown, unknown> };
      if (typeof module.createJobHandler !== 'function') throw new Error(`${request.handlerModule} does not export a function createJobHandler`);
      handler = await module.createJobHandler(request.init);
      return { backend };
    }
    case 'job':
      if (!handler) throw new Error('a job before init');
      return handler.run(request.job);
    case 'dispose':
      await handler?.dispose?.();
      handler = undefined;
      return null;
  }
}

port.on('message', (message: { id: number; request: PoolRequest }) => {
  queue = queue.then(async () => {
    let reply: PoolReply;
    try {
      reply = { id: message.id, ok: true, result: await handle(message.request) };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      reply = { id: message.id, ok: false, message: failure.message, ...(failure.stack ? { stack: failure.stack } : {}) };
    }
    port.postMessage(reply, reply.ok ? transferables(reply.result) : []);
    if (message.request.type === 'dispose') port.close();
  });
});
