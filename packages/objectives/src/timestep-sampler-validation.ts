import { DiffusionError } from '@tfjs-diffusion/core';

/** Throws unless `numSteps` is a positive integer. */
export function assertNumSteps(numSteps: number, what: string): void {
  if (!Number.isInteger(numSteps) || numSteps < 1) {
    throw new DiffusionError('invalid-argument', `${what}: numSteps must be a positive integer, got ${numSteps}`);
  }
}

/** Throws unless `batchSize` is a non-negative integer. */
export function assertBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 0) {
    throw new DiffusionError('invalid-argument', `timestep sampler: batchSize must be a non-negative integer, got ${batchSize}`);
  }
}
