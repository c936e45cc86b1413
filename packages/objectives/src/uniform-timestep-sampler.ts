import { DiffusionError, type NoiseSource, type TimestepSampler } from '@tfjs-diffusion/core';

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
