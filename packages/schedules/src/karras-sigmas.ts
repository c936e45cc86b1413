import { DiffusionError } from '@tfjs-diffusion/core';
import { assertFiniteNumber } from './schedule-validation.js';

export interface KarrasSigmasOptions {
  /** Number of noise levels n (sampling steps), a positive integer. */
  readonly count: number;
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /** Curvature; 7 in the paper. */
  readonly rho?: number;
}

/**
 * Karras et al. 2022 (EDM) noise levels, eq. 5: sigma_i = (sigmaMax^(1/rho) + i/(n-1)
 * (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho for i = 0..n-1, then 0 appended (n + 1 values, descending).
 */
export function karrasSigmas(options: KarrasSigmasOptions): Float64Array {
  const { count, sigmaMin, sigmaMax, rho = 7 } = options;
  if (typeof count !== 'number' || !Number.isInteger(count) || count <= 0) {
    throw new DiffusionError('invalid-schedule', `karrasSigmas: count must be a positive integer, got ${String(count)}`);
  }
  assertFiniteNumber(sigmaMin, 'karrasSigmas: sigmaMin', true);
  assertFiniteNumber(sigmaMax, 'karrasSigmas: sigmaMax', true);
  assertFiniteNumber(rho, 'karrasSigmas: rho', true);
  if (sigmaMin > sigmaMax) {
    throw new DiffusionError('invalid-schedule', `karrasSigmas: sigmaMin (${sigmaMin}) must not exceed sigmaMax (${sigmaMax})`);
  }
  const sigmas = new Float64Array(count + 1);
  // 1. interpolate linearly in sigma^(1/rho)
  const maxRoot = sigmaMax ** (1 / rho);
  const minRoot = sigmaMin ** (1 / rho);
  for (let index = 0; index < count; index += 1) {
    // 2. ramp i / (n - 1), 0 when n = 1 (as torch.linspace(0, 1, 1) gives)
    const ramp = count === 1 ? 0 : index / (count - 1);
    sigmas[index] = (maxRoot + ramp * (minRoot - maxRoot)) ** rho;
  }
  // 3. exact end points, then sigma_n = 0
  sigmas[0] = sigmaMax;
  if (count > 1) sigmas[count - 1] = sigmaMin;
  sigmas[count] = 0;
  return sigmas;
}
