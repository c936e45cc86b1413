import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import type { BackendName } from '@tfjs-diffusion/core';
import { handleRequest, type ReplicaSlot } from './replica-handler.js';
import { transferables, type ReplicaRequest, type ReplyMessage } from './worker-protocol.js';

// The entry of one replica worker thread: its own tfjs engine and backend, one U-Net copy.
const port = parentPort;
if (port === null) throw new Error('@tfjs-diffusion/parallel worker-entry must run in a worker thread');
const slot: ReplicaSlot = { replica: undefined };
let queue: Promise<void> = Promise.resolve();

port.on('message', (message: { id: number; request: ReplicaRequest }) => {
  // Requests run one at a time, in order.
  queue = queue.then(async () => {
    let reply: ReplyMessage;
    try {
      const result = await handleRequest(slot, message.request, async (backend) => {
        const choice = await selectBackend(backend as BackendName);
        return { backend: tf.getBackend(), reason: choice.reason };
      });
      reply = { id: message.id, ok: true, result };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      reply = { id: message.id, ok: false, message: failure.message, ...(failure.stack ? { stack: failure.stack } : {}) };
    }
    port.postMessage(reply, reply.ok ? transferables(reply.result) : []);
    if (message.request.type === 'dispose') port.close();
  });
});
