import type { TimestepSampler } from '@tfjs-diffusion/core';

/** A timestep sampler that always returns the same schedule index (to test one term at a time). */
export function fixedTimestepSampler(index: number): TimestepSampler {
  return {
    name: 'fixed',
    sample(batchSize) {
      return { indices: new Int32Array(batchSize).fill(index), weights: new Float64Array(batchSize).fill(1) };
    },
  };
}
