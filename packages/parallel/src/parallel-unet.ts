import { DiffusionError } from '@tfjs-diffusion/core';
import type { UNetConfig } from '@tfjs-diffusion/networks';
import type { AdamOptions } from '@tfjs-diffusion/training';
import { createLocalHost, createWorkerHost, defaultWorkerUrl, type ReplicaHost } from './replica-host.js';
import { mergeProfiles, sliceBatch, splitCounts, type KernelProfile, type UNetBatch } from './unet-replica.js';

export interface ParallelUNetOptions {
  readonly config: UNetConfig | Readonly<Record<string, unknown>>;
  /** Worker threads, one replica each (default 2); 0 runs one replica on the calling thread. */
  readonly workers?: number;
  /** The tfjs backend of each worker (default 'wasm'); with workers 0, 'current' keeps the active one. */
  readonly backend?: string;
  /** Adam's learning rate (default 2e-4, as the PyTorch peer). */
  readonly learningRate?: number;
  readonly adam?: AdamOptions;
  /** The built worker entry (default: this package's dist/worker-entry.js). */
  readonly workerUrl?: URL;
}

/** Data-parallel training of one U-Net over worker threads. */
export interface ParallelUNetTrainer {
  readonly workers: number;
  readonly replicas: number;
  readonly backend: string;
  readonly parameterCount: number;
  /** One step: the batch split across replicas, gradients averaged (weighted by share sizes), the same Adam update on every replica. */
  step(batch: UNetBatch, learningRate?: number): Promise<{ readonly loss: number }>;
  /** The network's predictions on a batch split across replicas, concatenated in order (no gradient). */
  predict(batch: UNetBatch): Promise<Float32Array>;
  /** The flat parameters of one replica (all replicas hold the same values). */
  getParameters(replica?: number): Promise<Float32Array>;
  setParameters(parameters: Float32Array): Promise<void>;
  /** Kernel times of one training step's forward + backward or of one evaluation, summed over replicas. */
  profile(kind: 'train' | 'eval', batch: UNetBatch): Promise<KernelProfile>;
  dispose(): Promise<void>;
}

/** Network evaluation (sampling's model calls) split across worker threads. */
export type ParallelEvaluator = Pick<
  ParallelUNetTrainer,
  'workers' | 'replicas' | 'backend' | 'parameterCount' | 'predict' | 'setParameters' | 'profile' | 'dispose'
>;

function copyShard(batch: UNetBatch): UNetBatch {
  return {
    count: batch.count,
    x: batch.x.slice(),
    timesteps: batch.timesteps.slice(),
    ...(batch.classLabels ? { classLabels: batch.classLabels.slice() } : {}),
    ...(batch.target ? { target: batch.target.slice() } : {}),
  };
}

function shards(batch: UNetBatch, replicas: number): UNetBatch[] {
  let start = 0;
  return splitCounts(batch.count, replicas).map((count) => {
    const shard = copyShard(sliceBatch(batch, start, count));
    start += count;
    return shard;
  });
}

/**
 * Synchronous data-parallel SGD (as PyTorch DistributedDataParallel; Goyal et al. 2017): each
 * worker thread holds a replica of the U-Net on its own tfjs backend (wasm by default, one core
 * each), computes the mean-squared-error gradient of its share of the batch, the host averages the
 * flat gradients weighted by share size, and every replica applies the same Adam update to the
 * same averaged gradient, so the parameters stay identical without a broadcast.
 */
export async function createParallelUNetTrainer(options: ParallelUNetOptions): Promise<ParallelUNetTrainer> {
  const workers = options.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 0) throw new DiffusionError('invalid-argument', `workers must be an integer >= 0, got ${workers}`);
  const defaultRate = options.learningRate ?? 2e-4;
  const backendName = options.backend ?? (workers === 0 ? 'current' : 'wasm');
  const hosts: ReplicaHost[] = [];
  if (workers === 0) {
    hosts.push(createLocalHost());
  } else {
    const url = options.workerUrl ?? defaultWorkerUrl();
    for (let index = 0; index < workers; index += 1) hosts.push(createWorkerHost(url));
  }
  let started: { parameterCount: number; backend: string }[];
  try {
    started = await Promise.all(
      hosts.map((host) =>
        host.request({ type: 'init', backend: backendName, config: options.config as Record<string, unknown>, adam: options.adam ?? {} }),
      ),
    );
  } catch (error) {
    await Promise.all(hosts.map((host) => host.close().catch(() => undefined)));
    throw error;
  }
  const parameterCount = started[0]?.parameterCount ?? 0;
  const backend = started[0]?.backend ?? backendName;

  return {
    workers,
    replicas: hosts.length,
    backend,
    parameterCount,
    async step(batch, learningRate = defaultRate) {
      const parts = shards(batch, hosts.length);
      const results = await Promise.all(parts.map((part, index) => (hosts[index] as ReplicaHost).request({ type: 'gradient', batch: part })));
      // 1. g = sum_k (n_k / N) g_k, the gradient of the mean over the whole batch
      let averaged: Float32Array;
      let loss = 0;
      if (results.length === 1) {
        averaged = (results[0] as (typeof results)[0]).gradient;
        loss = (results[0] as (typeof results)[0]).loss;
      } else {
        averaged = new Float32Array(parameterCount);
        for (const result of results) {
          const weight = result.count / batch.count;
          loss += weight * result.loss;
          const gradient = result.gradient;
          for (let position = 0; position < parameterCount; position += 1)
            averaged[position] = (averaged[position] as number) + weight * (gradient[position] as number);
        }
      }
      // 2. the same Adam update on every replica (each gets its own copy; the last one takes the original)
      await Promise.all(
        hosts.map((host, index) => host.request({ type: 'apply', gradient: index === hosts.length - 1 ? averaged : averaged.slice(), learningRate })),
      );
      return { loss };
    },
    async predict(batch) {
      const parts = shards(batch, hosts.length);
      const outputs = await Promise.all(parts.map((part, index) => (hosts[index] as ReplicaHost).request({ type: 'predict', batch: part })));
      const total = new Float32Array(outputs.reduce((sum, output) => sum + output.length, 0));
      let offset = 0;
      for (const output of outputs) {
        total.set(output, offset);
        offset += output.length;
      }
      return total;
    },
    getParameters(replica = 0) {
      const host = hosts[replica];
      if (!host) throw new DiffusionError('invalid-argument', `replica ${replica} does not exist (${hosts.length} replicas)`);
      return host.request({ type: 'get-parameters' });
    },
    async setParameters(parameters) {
      await Promise.all(hosts.map((host) => host.request({ type: 'set-parameters', parameters: parameters.slice() })));
    },
    async profile(kind, batch) {
      const parts = shards(batch, hosts.length);
      return mergeProfiles(
        await Promise.all(parts.map((part, index) => (hosts[index] as ReplicaHost).request({ type: 'profile', kind, batch: part }))),
      );
    },
    async dispose() {
      await Promise.all(hosts.map((host) => host.close()));
    },
  };
}

/** Data-parallel network evaluation: the batch split across worker threads (same options as the trainer). */
export function createParallelEvaluator(options: ParallelUNetOptions): Promise<ParallelEvaluator> {
  return createParallelUNetTrainer(options);
}
