import type { NoiseSchedule } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { createSchedule } from './create-schedule.js';
import { respaceSchedule } from './respace-schedule.js';
import { scheduleFromBetas } from './schedule-from-betas.js';

const schedules: [string, NoiseSchedule][] = [
  ['linear T=1000', createSchedule({ kind: 'linear', timesteps: 1000 })],
  ['cosine T=1000', createSchedule({ kind: 'cosine', timesteps: 1000 })],
  ['sigmoid T=200', createSchedule({ kind: 'sigmoid', timesteps: 200 })],
  ['cosine T=1000 respaced "ddim50"', respaceSchedule(createSchedule({ kind: 'cosine', timesteps: 1000 }), 'ddim50')],
  ['linear T=1000 respaced "trailing:10"', respaceSchedule(createSchedule({ kind: 'linear', timesteps: 1000 }), 'trailing:10')],
];

function expectClose(actual: number | undefined, expected: number, tolerance: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

describe.each(schedules)('derived arrays of %s', (_, schedule) => {
  const count = schedule.betas.length;

  it('has alpha = 1 - beta, alphaBar = prod alpha, alphaBarPrevious shifted with 1 first', () => {
    let product = 1;
    for (let index = 0; index < count; index += 1) {
      expect(schedule.alphas[index]).toBe(1 - (schedule.betas[index] as number));
      expect(schedule.alphaBarsPrevious[index]).toBe(index === 0 ? 1 : schedule.alphaBars[index - 1]);
      product *= schedule.alphas[index] as number;
      expect(Math.abs(product / (schedule.alphaBars[index] as number) - 1)).toBeLessThan(1e-9);
    }
  });

  it('has the posterior of q(x_{t-1} | x_t, x0) that Gaussian conditioning gives', () => {
    for (let index = 0; index < count; index += 1) {
      const alpha = schedule.alphas[index] as number;
      const alphaBar = schedule.alphaBars[index] as number;
      const alphaBarPrevious = schedule.alphaBarsPrevious[index] as number;
      // x_{t-1} | x0 ~ N(sqrt(aBar_prev) x0, 1 - aBar_prev); x_t = sqrt(alpha) x_{t-1} + sqrt(1 - alpha) z
      const covariance = Math.sqrt(alpha) * (1 - alphaBarPrevious);
      const varianceXt = 1 - alphaBar;
      const gainXt = covariance / varianceXt;
      expectClose(schedule.posteriorMeanCoefficientsXt[index], gainXt, 1e-10);
      expectClose(schedule.posteriorMeanCoefficientsX0[index], Math.sqrt(alphaBarPrevious) - gainXt * Math.sqrt(alphaBar), 1e-10);
      expectClose(schedule.posteriorVariances[index], 1 - alphaBarPrevious - (covariance * covariance) / varianceXt, 1e-10);
    }
  });

  it('maps a noise-free x_t = sqrt(aBar_t) x0 to mean sqrt(aBar_{t-1}) x0', () => {
    for (let index = 0; index < count; index += 1) {
      const mean =
        (schedule.posteriorMeanCoefficientsX0[index] as number) +
        (schedule.posteriorMeanCoefficientsXt[index] as number) * Math.sqrt(schedule.alphaBars[index] as number);
      expectClose(mean, Math.sqrt(schedule.alphaBarsPrevious[index] as number), 1e-12);
    }
  });

  it('lands exactly on x0 at the first step and clips the log variance with betaTilde_1', () => {
    expect(schedule.posteriorVariances[0]).toBe(0);
    expectClose(schedule.posteriorMeanCoefficientsX0[0], 1, 1e-12);
    expect(schedule.posteriorMeanCoefficientsXt[0]).toBe(0);
    expect(schedule.posteriorLogVariancesClipped[0]).toBe(Math.log(schedule.posteriorVariances[1] as number));
    for (let index = 1; index < count; index += 1) {
      expect(schedule.posteriorLogVariancesClipped[index]).toBe(Math.log(schedule.posteriorVariances[index] as number));
    }
  });

  it('gives DDIM eta = 1 the DDPM posterior variance: sigma^2 = betaTilde', () => {
    for (let index = 1; index < count; index += 1) {
      const alphaBar = schedule.alphaBars[index] as number;
      const alphaBarPrevious = schedule.alphaBarsPrevious[index] as number;
      const ddimVariance = ((1 - alphaBarPrevious) / (1 - alphaBar)) * (1 - alphaBar / alphaBarPrevious);
      expectClose(schedule.posteriorVariances[index], ddimVariance, 1e-12);
    }
  });

  it('has the variance-exploding sigmas', () => {
    for (let index = 0; index < count; index += 1) {
      const alphaBar = schedule.alphaBars[index] as number;
      expect(schedule.sigmas[index]).toBe(Math.sqrt((1 - alphaBar) / alphaBar));
    }
  });
});

describe('scheduleFromBetas', () => {
  it('uses beta_0 for the clipped log variance of a one-step schedule (no betaTilde_1 exists)', () => {
    const schedule = scheduleFromBetas({ kind: 'custom', trainingTimesteps: 1, respacing: null, timesteps: [0] }, [0.3]);
    expect(schedule.posteriorLogVariancesClipped[0]).toBe(Math.log(0.3));
    expect(schedule.alphaBars[0]).toBe(0.7);
  });

  it('stores given alphaBars as they are', () => {
    const schedule = scheduleFromBetas(
      { kind: 'custom', trainingTimesteps: 10, respacing: 'x', timesteps: [3, 7] },
      [0.5, 0.5],
      [0.5000000001, 0.25],
    );
    expect(Array.from(schedule.alphaBars)).toEqual([0.5000000001, 0.25]);
    expect(schedule.alphaBarsPrevious[1]).toBe(0.5000000001);
  });
});
