import { DiffusionError } from '@tfjs-diffusion/core';
import { UNetReplica } from './unet-replica.js';
import type { ReplicaRequest } from './worker-protocol.js';

/** Holds the replica of one worker (or of the in-process host). */
export interface ReplicaSlot {
  replica: UNetReplica | undefined;
}

/** Runs one request on a replica; `activate` starts the backend for 'init'. */
export async function handleRequest(
  slot: ReplicaSlot,
  request: ReplicaRequest,
  activate: (backend: string) => Promise<{ backend: string; reason: string }>,
): Promise<unknown> {
  if (request.type === 'init') {
    const { backend, reason } = await activate(request.backend);
    slot.replica?.dispose();
    slot.replica = new UNetReplica(request.config, request.adam);
    return { parameterCount: slot.replica.parameterCount, backend, reason };
  }
  const replica = slot.replica;
  if (replica === undefined) {
    if (request.type === 'dispose') return null;
    throw new DiffusionError('invalid-argument', `replica worker: '${request.type}' before 'init'`);
  }
  switch (request.type) {
    case 'gradient':
      return replica.computeGradient(request.batch);
    case 'apply':
      replica.applyGradient(request.gradient, request.learningRate);
      return null;
    case 'predict':
      return replica.predict(request.batch);
    case 'get-parameters':
      return replica.getParameters();
    case 'set-parameters':
      replica.setParameters(request.parameters);
      return null;
    case 'profile':
      return replica.profile(request.kind, request.batch);
    case 'dispose':
      replica.dispose();
      slot.replica = undefined;
      return null;
  }
}
