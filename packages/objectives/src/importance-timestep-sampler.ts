import { DiffusionError, type NoiseSource, type TimestepSampler } from '@tfjs-diffusion/core';
import { assertBatchSize, assertNumSteps } from './timestep-sampler-validation.js';

export interface ImportanceTimestepSamplerOptions {
  /** Losses remembered per step; sampling stays uniform until every step has this many (default 10). */
  readonly historyPerTerm?: number;
  /** Probability mass spread uniformly over all steps once warmed up (default 0.001). */
  readonly uniformProbability?: number;
}

/** JSON-safe state: the loss history of every step, oldest first. */
export interface ImportanceTimestepSamplerState {
  readonly kind: 'importance';
  readonly numSteps: number;
  readonly historyPerTerm: number;
  readonly uniformProbability: number;
  /** One array per step with its most recent losses (at most historyPerTerm), oldest first. */
  readonly history: readonly (readonly number[])[];
}

export interface ImportanceTimestepSampler extends TimestepSampler {
  readonly name: 'importance';
  readonly numSteps: number;
  readonly historyPerTerm: number;
  readonly uniformProbability: number;
  /** True once every step holds `historyPerTerm` losses; before that sampling is uniform. */
  readonly warmedUp: boolean;
  /** The current sampling probabilities p_t (sum 1). */
  probabilities(): Float64Array;
  update(indices: Int32Array, losses: Float64Array): void;
  getState(): ImportanceTimestepSamplerState;
  setState(state: unknown): void;
}

/**
 * Importance sampling of timesteps with p_t proportional to sqrt(E[L_t^2]) over the last 10 losses of
 * each t, mixed with a little uniform mass, and weights 1 / (N p_t) that keep the loss unbiased
 * (Improved DDPM, Nichol & Dhariwal 2021, section 3.3; improved-diffusion `LossSecondMomentResampler`).
 */
export function createImportanceTimestepSampler(numSteps: number, options: ImportanceTimestepSamplerOptions = {}): ImportanceTimestepSampler {
  assertNumSteps(numSteps, 'importance timestep sampler');
  const historyPerTerm = options.historyPerTerm ?? 10;
  const uniformProbability = options.uniformProbability ?? 0.001;
  if (!Number.isInteger(historyPerTerm) || historyPerTerm < 1) {
    throw new DiffusionError('invalid-argument', `importance timestep sampler: historyPerTerm must be a positive integer, got ${historyPerTerm}`);
  }
  if (!(uniformProbability >= 0 && uniformProbability <= 1)) {
    throw new DiffusionError('invalid-argument', `importance timestep sampler: uniformProbability must be in [0, 1], got ${uniformProbability}`);
  }
  // history[t * historyPerTerm + k], the k-th oldest loss of step t
  const history = new Float64Array(numSteps * historyPerTerm);
  const counts = new Int32Array(numSteps);
  let stepsWarm = 0;

  const probabilities = (): Float64Array => {
    const result = new Float64Array(numSteps);
    if (stepsWarm < numSteps) return result.fill(1 / numSteps);
    let total = 0;
    for (let step = 0; step < numSteps; step += 1) {
      // 1. w_t = sqrt(E[L_t^2]) over the history of step t, eq. 17 of Improved DDPM
      let sumSquares = 0;
      for (let k = 0; k < historyPerTerm; k += 1) sumSquares += (history[step * historyPerTerm + k] as number) ** 2;
      result[step] = Math.sqrt(sumSquares / historyPerTerm);
      total += result[step] as number;
    }
    if (!(total > 0)) return result.fill(1 / numSteps);
    for (let step = 0; step < numSteps; step += 1) {
      // 2. p_t = (1 - u) w_t / sum(w) + u / N
      result[step] = ((1 - uniformProbability) * (result[step] as number)) / total + uniformProbability / numSteps;
    }
    return result;
  };

  return {
    name: 'importance',
    numSteps,
    historyPerTerm,
    uniformProbability,
    get warmedUp() {
      return stepsWarm === numSteps;
    },
    probabilities,
    sample(batchSize: number, noise: NoiseSource) {
      assertBatchSize(batchSize);
      const p = probabilities();
      const cumulative = new Float64Array(numSteps);
      let running = 0;
      for (let step = 0; step < numSteps; step += 1) {
        running += p[step] as number;
        cumulative[step] = running;
      }
      const uniforms = noise.uniform(batchSize);
      const indices = new Int32Array(batchSize);
      const weights = new Float64Array(batchSize);
      for (let sample = 0; sample < batchSize; sample += 1) {
        // 3. t ~ p by inverting the cumulative distribution (first step whose CDF exceeds u)
        const target = (uniforms[sample] as number) * running;
        let low = 0;
        let high = numSteps - 1;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if ((cumulative[middle] as number) > target) high = middle;
          else low = middle + 1;
        }
        indices[sample] = low;
        // 4. weight 1 / (N p_t), so E_p[w_t L_t] = (1/N) sum_t L_t, the uniform mean
        weights[sample] = 1 / (numSteps * (p[low] as number));
      }
      return { indices, weights };
    },
    update(indices: Int32Array, losses: Float64Array) {
      if (indices.length !== losses.length) {
        throw new DiffusionError('invalid-argument', `importance timestep sampler: ${indices.length} indices but ${losses.length} losses`);
      }
      for (let sample = 0; sample < indices.length; sample += 1) {
        const step = indices[sample] as number;
        const loss = losses[sample] as number;
        if (!Number.isInteger(step) || step < 0 || step >= numSteps) {
          throw new DiffusionError('invalid-argument', `importance timestep sampler: index ${step} is outside 0..${numSteps - 1}`);
        }
        if (!Number.isFinite(loss)) {
          throw new DiffusionError('non-finite-loss', `importance timestep sampler: the loss at index ${step} is ${loss}`);
        }
        const start = step * historyPerTerm;
        const count = counts[step] as number;
        if (count === historyPerTerm) {
          // 5. a full history drops its oldest loss
          history.copyWithin(start, start + 1, start + historyPerTerm);
          history[start + historyPerTerm - 1] = loss;
        } else {
          history[start + count] = loss;
          counts[step] = count + 1;
          if (count + 1 === historyPerTerm) stepsWarm += 1;
        }
      }
    },
    getState() {
      return {
        kind: 'importance',
        numSteps,
        historyPerTerm,
        uniformProbability,
        history: Array.from(counts, (count, step) => Array.from(history.subarray(step * historyPerTerm, step * historyPerTerm + count))),
      };
    },
    setState(state: unknown) {
      const candidate = state as Partial<ImportanceTimestepSamplerState> | null;
      const fail = (why: string): never => {
        throw new DiffusionError('invalid-argument', `importance timestep sampler state: ${why}`);
      };
      if (candidate?.kind !== 'importance') fail("kind must be 'importance'");
      if (candidate?.numSteps !== numSteps) fail(`numSteps must be ${numSteps}, got ${candidate?.numSteps}`);
      if (candidate?.historyPerTerm !== historyPerTerm) fail(`historyPerTerm must be ${historyPerTerm}, got ${candidate?.historyPerTerm}`);
      const stateHistory = candidate?.history;
      if (!Array.isArray(stateHistory) || stateHistory.length !== numSteps) fail(`history must hold ${numSteps} arrays`);
      const checked = stateHistory as readonly (readonly number[])[];
      checked.forEach((losses, step) => {
        if (!Array.isArray(losses) || losses.length > historyPerTerm || !losses.every((loss) => Number.isFinite(loss))) {
          fail(`history[${step}] must hold at most ${historyPerTerm} finite numbers`);
        }
      });
      history.fill(0);
      stepsWarm = 0;
      checked.forEach((losses, step) => {
        history.set(losses, step * historyPerTerm);
        counts[step] = losses.length;
        if (losses.length === historyPerTerm) stepsWarm += 1;
      });
    },
  };
}
