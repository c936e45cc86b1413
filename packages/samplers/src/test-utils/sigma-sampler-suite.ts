import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoiseSchedule, type Sampler } from '@tfjs-diffusion/core';
import { expect, it } from 'vitest';
import { sigmaSteps, type SigmaSpacingOptions } from '../sigma-space.js';
import { gaussianModel, mixtureModel } from './exact-models.js';
import { expectAffineMap, expectMixtureWeights, expectNearData, expectOracleMoments, GAUSSIAN, MIXTURE } from './expectations.js';
import { sigmaMoments, type SigmaMethod } from './gaussian-oracle.js';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';

export const fullSchedule = createSchedule({ kind: 'linear', timesteps: 1000 });

/** The schedule's own sigmas on N evenly respaced steps, or N Karras sigmas over the full schedule. */
export function spacing(kind: 'schedule' | 'karras', steps: number): { schedule: NoiseSchedule } & SigmaSpacingOptions {
  return kind === 'schedule' ? { schedule: respaceSchedule(fullSchedule, String(steps)) } : { schedule: fullSchedule, sigmas: 'karras', steps };
}

export interface GaussianCase {
  readonly sigmas: 'schedule' | 'karras';
  readonly steps: number;
  /** The exact std of the sampler's output (from the oracle), pinned so that a change shows. */
  readonly exactStd: number;
  /** Allowed |std - s| / s: the method's discretization bias at this step count, rounded up. */
  readonly bias: number;
}

/**
 * The tests every sigma-space sampler gets: on N(mu, s^2) data its samples follow the oracle's exact
 * output distribution within sampling error (deterministic ones also element by element), that
 * distribution is the data's up to the stated bias, and each mixture component gets its weight.
 */
export function sigmaSamplerSuite(
  sampler: Sampler<SigmaSpacingOptions>,
  method: SigmaMethod,
  cases: readonly GaussianCase[],
  mixtureCase: { readonly sigmas: 'schedule' | 'karras'; readonly steps: number },
): void {
  const deterministic = method !== 'euler-ancestral';
  const model = gaussianModel(fullSchedule, GAUSSIAN);
  for (const { sigmas, steps, exactStd, bias } of cases) {
    it(`samples N(mu, s^2) with ${steps} ${sigmas} sigmas (exact std ${exactStd}, bias < ${Math.round(bias * 1000) / 10}%)`, async () => {
      const shape = [4000, 2];
      const initialNoise = tf.tensor(createNoiseSource(30 + steps).normal(shape), shape);
      const options = spacing(sigmas, steps);
      const samples = await sampler({ model, shape, noise: createNoiseSource(31), initialNoise, ...options });
      const oracle = sigmaMoments(sigmaSteps(options.schedule, options), GAUSSIAN, method);
      expect(oracle.std).toBeCloseTo(exactStd, 4);
      if (deterministic) expectAffineMap(samples, initialNoise, oracle, 2e-5);
      expectOracleMoments(samples, oracle);
      expectNearData(oracle, GAUSSIAN, bias);
      tf.dispose([samples, initialNoise]);
    });
  }

  it(`puts each mixture component its weight (${mixtureCase.steps} ${mixtureCase.sigmas} sigmas)`, async () => {
    const samples = await sampler({
      model: mixtureModel(fullSchedule, MIXTURE),
      shape: [4000, 2],
      noise: createNoiseSource(32),
      ...spacing(mixtureCase.sigmas, mixtureCase.steps),
    });
    expectMixtureWeights(samples, MIXTURE, 0);
    samples.dispose();
  });
}
