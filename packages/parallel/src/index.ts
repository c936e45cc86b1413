export { createParallelEvaluator, createParallelUNetTrainer } from './parallel-unet.js';
export type { ParallelEvaluator, ParallelUNetOptions, ParallelUNetTrainer } from './parallel-unet.js';
export { UNetReplica, aggregateKernels, mergeProfiles, sliceBatch, splitCounts } from './unet-replica.js';
export type { FlatGradient, KernelProfile, UNetBatch } from './unet-replica.js';
export { defaultWorkerUrl } from './replica-host.js';
export { createWorkerPool } from './worker-pool.js';
export type { JobHandler, JobHandlerFactory, WorkerPool, WorkerPoolOptions } from './worker-pool.js';
export { createGeneratePool, type GeneratePool, type PooledGenerateOptions } from './generate-pool.js';
export type { GenerateJob, GenerateJobResult, GenerateWorkerInit } from './generate-handler.js';
