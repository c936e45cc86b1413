import { DiffusionError, type NoiseSource, type TimestepSampler } from '@tfjs-diffusion/core';
import { assertBatchSize, assertNumSteps } from './timestep-sampler-validation.js';

export interface UniformTimestepSamplerState {
  readonly kind: 'uniform';
  readonly numSteps: number;
}

export interface UniformTimestepSampler extends TimestepSampler {
  readonly name: 'uniform';
  readonly numSteps: number;
  getState(): UniformTimestepSamplerState;
  setState(state: unknown): void;
}

/** Uniform timesteps t ~ U{0..N-1} with unit weights, as in DDPM training (Ho et al. 2020, Algorithm 1). */
export function createUniformTimestepSampler(numSteps: number): UniformTimestepSampler {
  assertNumSteps(numSteps, 'uniform timestep sampler');
  return {
    name: 'uniform',
    numSteps,
    sample(batchSize: number, noise: NoiseSource) {
      assertBatchSize(batchSize);
      // 1. t ~ Uniform({0, ..., N-1}); weights 1 (the plain mean is already unbiased)
      const indices = noise.integers(batchSize, numSteps);
      return { indices, weights: new Float64Array(batchSize).fill(1) };
    },
    update() {
      // A uniform sampler ignores the losses.
    },
    getState() {
      return { kind: 'uniform', numSteps };
    },
    setState(state: unknown) {
      const candidate = state as Partial<UniformTimestepSamplerState> | null;
      if (candidate?.kind !== 'uniform' || candidate.numSteps !== numSteps) {
        throw new DiffusionError(
          'invalid-argument',
          `uniform timestep sampler state must be { kind: 'uniform', numSteps: ${numSteps} }, got ${JSON.stringify(state)}`,
        );
      }
    },
  };
}
