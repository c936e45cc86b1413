import { DiffusionError } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { createSchedule } from './create-schedule.js';
import type { ScheduleOptions } from './schedule-options.js';

/** |actual - expected| <= relative * |expected|. */
function expectRelative(actual: number | undefined, expected: number, relative = 1e-4): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
}

describe('createSchedule: linear (Ho et al., scaled by 1000/T)', () => {
  it('matches the reference alphaBars for T = 1000', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });
    expect(schedule.betas[0]).toBeCloseTo(1e-4, 15);
    expect(schedule.betas[999]).toBeCloseTo(0.02, 15);
    expectRelative(schedule.alphaBars[0], 0.9999, 1e-12);
    expectRelative(schedule.alphaBars[499], 0.078587);
    expectRelative(schedule.alphaBars[999], 4.0358e-5);
  });

  it('scales the end points by 1000/T for T = 4000', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 4000 });
    expect(schedule.betas.length).toBe(4000);
    expect(schedule.betas[0]).toBeCloseTo(2.5e-5, 15);
    expect(schedule.betas[3999]).toBeCloseTo(5e-3, 15);
    expectRelative(schedule.alphaBars[3999], 4.2467e-5);
  });

  it('has betaTilde_1 = 5.4532e-5 and log -9.8167 for T = 1000, used at t = 0 in the clipped log', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });
    expect(schedule.posteriorVariances[0]).toBe(0);
    expectRelative(schedule.posteriorVariances[1], 5.4532e-5);
    expect(schedule.posteriorLogVariancesClipped[1]).toBeCloseTo(-9.8167, 4);
    expect(schedule.posteriorLogVariancesClipped[0]).toBe(schedule.posteriorLogVariancesClipped[1]);
  });

  it('can keep the end points unscaled', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 4000, scaleWithTimesteps: false });
    expect(schedule.betas[0]).toBeCloseTo(1e-4, 15);
    expect(schedule.betas[3999]).toBeCloseTo(0.02, 15);
  });

  it('fills the identity fields of a full schedule', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 50 });
    expect(schedule.kind).toBe('linear');
    expect(schedule.trainingTimesteps).toBe(50);
    expect(schedule.respacing).toBeNull();
    expect(schedule.timesteps).toEqual(Array.from({ length: 50 }, (_, index) => index));
    for (const array of [
      schedule.betas,
      schedule.alphas,
      schedule.alphaBars,
      schedule.alphaBarsPrevious,
      schedule.posteriorVariances,
      schedule.posteriorLogVariancesClipped,
      schedule.posteriorMeanCoefficientsX0,
      schedule.posteriorMeanCoefficientsXt,
      schedule.sigmas,
    ]) {
      expect(array).toBeInstanceOf(Float64Array);
      expect(array.length).toBe(50);
      expect(array.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('createSchedule: cosine (Improved DDPM eq. 17)', () => {
  const schedule = createSchedule({ kind: 'cosine', timesteps: 1000 });

  it('matches the reference betas, clipping only the last at 0.999', () => {
    expectRelative(schedule.betas[0], 4.12842e-5, 1e-5);
    expectRelative(schedule.betas[997], 0.555554, 1e-5);
    expectRelative(schedule.betas[998], 0.749999, 1e-5);
    expect(schedule.betas[999]).toBe(0.999);
    const clipped = Array.from(schedule.betas).flatMap((beta, index) => (beta >= 0.999 ? [index] : []));
    expect(clipped).toEqual([999]);
  });

  it('matches the reference alphaBars', () => {
    expectRelative(schedule.alphaBars[0], 0.99995872, 1e-8);
    expectRelative(schedule.alphaBars[499], 0.493844, 1e-5);
    expectRelative(schedule.alphaBars[998], 2.4288e-6, 1e-4);
    expectRelative(schedule.alphaBars[999], 2.4288e-9, 1e-4);
  });

  it('follows f(t/T)/f(0) before the clipped step', () => {
    const f = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 10, 250, 500, 900, 998]) expectRelative(schedule.alphaBars[t], f((t + 1) / 1000) / f(0), 1e-10);
  });

  it('takes the offset and the maximum beta as options', () => {
    const custom = createSchedule({ kind: 'cosine', timesteps: 1000, offset: 0.02, maxBeta: 0.5 });
    expect(Math.max(...custom.betas)).toBe(0.5);
    expect(custom.betas[0]).toBeGreaterThan(schedule.betas[0] as number);
  });
});

describe('createSchedule: scaled-linear (Stable Diffusion, unscaled like diffusers)', () => {
  it('is linear in sqrt(beta) from 0.00085 to 0.012 for any T', () => {
    for (const timesteps of [1000, 250]) {
      const schedule = createSchedule({ kind: 'scaled-linear', timesteps });
      expect(schedule.betas[0]).toBeCloseTo(0.00085, 15);
      expect(schedule.betas[timesteps - 1]).toBeCloseTo(0.012, 15);
      const middle = (timesteps - 1) / 2;
      const expectedRoot = Math.sqrt(0.00085) + (middle / (timesteps - 1)) * (Math.sqrt(0.012) - Math.sqrt(0.00085));
      const roots = Array.from(schedule.betas, Math.sqrt);
      if (Number.isInteger(middle)) expect(roots[middle]).toBeCloseTo(expectedRoot, 12);
      expect(Math.abs((roots[2] as number) - 2 * (roots[1] as number) + (roots[0] as number))).toBeLessThan(1e-12);
    }
  });

  it('matches numpy for T = 1000 (beta[499], alphaBar[999])', () => {
    const schedule = createSchedule({ kind: 'scaled-linear', timesteps: 1000 });
    expectRelative(schedule.betas[499], 0.004803793, 1e-8);
    expectRelative(schedule.alphaBars[999], 0.0046600985, 1e-8);
  });

  it('scales by 1000/T only when asked', () => {
    const schedule = createSchedule({ kind: 'scaled-linear', timesteps: 2000, scaleWithTimesteps: true });
    expect(schedule.betas[0]).toBeCloseTo(0.000425, 15);
    expect(schedule.betas[1999]).toBeCloseTo(0.006, 15);
  });
});

describe('createSchedule: sigmoid (GeoDiff, scaled by 1000/T)', () => {
  const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

  it('is sigmoid(linspace(-6, 6, T)) between 1e-4 and 0.02 for T = 1000', () => {
    const schedule = createSchedule({ kind: 'sigmoid', timesteps: 1000 });
    expect(schedule.betas[0]).toBeCloseTo(sigmoid(-6) * (0.02 - 1e-4) + 1e-4, 15);
    expect(schedule.betas[999]).toBeCloseTo(sigmoid(6) * (0.02 - 1e-4) + 1e-4, 15);
    expectRelative(schedule.betas[0], 1.492052e-4, 1e-7);
    expectRelative(schedule.alphaBars[999], 3.968182e-5, 1e-6);
    for (let t = 1; t < 1000; t += 1) expect(schedule.betas[t]).toBeGreaterThan(schedule.betas[t - 1] as number);
  });

  it('scales both end points by 1000/T (T = 500 doubles them)', () => {
    const schedule = createSchedule({ kind: 'sigmoid', timesteps: 500 });
    expect(schedule.betas[0]).toBeCloseTo(sigmoid(-6) * (0.04 - 2e-4) + 2e-4, 15);
    expectRelative(schedule.alphaBars[499], 3.6384706e-5, 1e-6);
  });
});

describe('createSchedule: custom betas', () => {
  it('takes T from the betas and copies them', () => {
    const betas = [0.1, 0.2, 0.5];
    const schedule = createSchedule({ kind: 'custom', betas });
    betas[0] = 0.9;
    expect(schedule.trainingTimesteps).toBe(3);
    expect(Array.from(schedule.betas)).toEqual([0.1, 0.2, 0.5]);
    expect(schedule.alphaBars[2]).toBeCloseTo(0.9 * 0.8 * 0.5, 15);
    expect(schedule.timesteps).toEqual([0, 1, 2]);
  });

  it('accepts a typed array', () => {
    expect(createSchedule({ kind: 'custom', betas: new Float32Array([0.25]) }).alphaBars[0]).toBe(0.75);
  });

  it.each([
    [[], /must not be empty/],
    [[0.1, 0], /betas\[1\] must be a finite number in \(0, 1\), got 0/],
    [[0.1, 1], /betas\[1\] .* got 1/],
    [[-0.1], /betas\[0\] .* got -0.1/],
    [[0.1, Number.NaN], /betas\[1\] .* got NaN/],
    [[Number.POSITIVE_INFINITY], /betas\[0\] .* got Infinity/],
  ])('rejects betas %j', (betas, message) => {
    expectScheduleError(() => createSchedule({ kind: 'custom', betas }), message);
  });
});

function expectScheduleError(action: () => unknown, message: RegExp, code = 'invalid-schedule'): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DiffusionError);
    expect((error as DiffusionError).code).toBe(code);
    expect((error as DiffusionError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a DiffusionError matching ${message}`);
}

describe('createSchedule: invalid options', () => {
  it.each([0, -5, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects T = %s', (timesteps) => {
    expectScheduleError(() => createSchedule({ kind: 'linear', timesteps }), /linear schedule timesteps .* must be a positive integer/);
  });

  it('rejects a missing T', () => {
    expectScheduleError(() => createSchedule({ kind: 'cosine' } as unknown as ScheduleOptions), /cosine schedule timesteps .* got undefined/);
  });

  it('rejects an unknown kind, naming the kinds it knows', () => {
    expectScheduleError(
      () => createSchedule({ kind: 'quadratic', timesteps: 10 } as unknown as ScheduleOptions),
      /unknown schedule kind "quadratic"; expected one of 'linear', 'cosine', 'scaled-linear', 'sigmoid', 'custom'/,
    );
  });

  it('rejects an unknown option with code unknown-option', () => {
    expectScheduleError(
      () => createSchedule({ kind: 'linear', timesteps: 10, betastart: 0.1 } as unknown as ScheduleOptions),
      /unknown option 'betastart' for a 'linear' schedule/,
      'unknown-option',
    );
    expectScheduleError(
      () => createSchedule({ kind: 'custom', betas: [0.1], timesteps: 1 } as unknown as ScheduleOptions),
      /unknown option 'timesteps' for a 'custom' schedule/,
      'unknown-option',
    );
  });

  it('rejects parameters that give betas outside (0, 1) or are not numbers', () => {
    expectScheduleError(
      () => createSchedule({ kind: 'linear', timesteps: 1000, betaEnd: 2 }),
      /linear schedule betas\[\d+\] must be a finite number in \(0, 1\), got 1\.\d+ \(check the options/,
    );
    expectScheduleError(
      () => createSchedule({ kind: 'linear', timesteps: 10, betaStart: -1 }),
      /linear schedule betaStart must be a finite positive number, got -1/,
    );
    expectScheduleError(() => createSchedule({ kind: 'sigmoid', timesteps: 10, betaEnd: Number.NaN }), /sigmoid schedule betaEnd .* got NaN/);
    expectScheduleError(() => createSchedule({ kind: 'cosine', timesteps: 10, maxBeta: 1 }), /cosine schedule maxBeta must be < 1/);
    expectScheduleError(() => createSchedule({ kind: 'cosine', timesteps: 10, offset: -0.1 }), /cosine schedule offset must be >= 0/);
    expectScheduleError(
      () => createSchedule({ kind: 'scaled-linear', timesteps: 10, scaleWithTimesteps: 'yes' } as unknown as ScheduleOptions),
      /scaleWithTimesteps must be true or false/,
    );
  });
});
