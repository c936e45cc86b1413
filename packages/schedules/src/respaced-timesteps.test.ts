import { DiffusionError } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { assertKeptTimesteps, respacedTimesteps } from './respaced-timesteps.js';

const every = (start: number, stride: number, count: number): number[] => Array.from({ length: count }, (_, index) => start + index * stride);

function expectScheduleError(action: () => unknown, message: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DiffusionError);
    expect((error as DiffusionError).code).toBe('invalid-schedule');
    expect((error as DiffusionError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a DiffusionError matching ${message}`);
}

describe('respacedTimesteps: improved-diffusion section counts', () => {
  it('"ddim50" on T = 1000 keeps 0, 20, ..., 980', () => {
    expect(respacedTimesteps(1000, 'ddim50')).toEqual(every(0, 20, 50));
  });

  it('"ddim7" on T = 1000 uses the first stride with exactly 7 steps (143)', () => {
    expect(respacedTimesteps(1000, 'ddim7')).toEqual(every(0, 143, 7));
  });

  it('"10" on T = 1000 keeps 0, 111, ..., 999', () => {
    expect(respacedTimesteps(1000, '10')).toEqual(every(0, 111, 10));
  });

  it('"250" on T = 1000 strides by 999/249, from 0 to 999', () => {
    const kept = respacedTimesteps(1000, '250');
    expect(kept.length).toBe(250);
    expect(kept.slice(0, 5)).toEqual([0, 4, 8, 12, 16]);
    expect(kept[249]).toBe(999);
  });

  it('rounds the fractional stride half to even, as Python round does ("7" on T = 1000)', () => {
    expect(respacedTimesteps(1000, '7')).toEqual([0, 166, 333, 500, 666, 832, 999]);
  });

  it('"10,15,20" on T = 300 spaces each 100-step section on its own', () => {
    const kept = respacedTimesteps(300, '10,15,20');
    expect(kept.length).toBe(45);
    expect(kept.slice(0, 13)).toEqual([0, 11, 22, 33, 44, 55, 66, 77, 88, 99, 100, 107, 114]);
    expect(kept.slice(24, 28)).toEqual([199, 200, 205, 210]);
    expect(kept[44]).toBe(299);
  });

  it('gives the first T % n sections one extra step ("3,4,5" on T = 999 matches respace.py)', () => {
    expect(respacedTimesteps(999, '3,4,5')).toEqual([0, 166, 332, 333, 444, 554, 665, 666, 749, 832, 915, 998]);
  });

  it('keeps all steps for "1000" on T = 1000, and only step 0 for "1"', () => {
    expect(respacedTimesteps(1000, '1000')).toEqual(every(0, 1, 1000));
    expect(respacedTimesteps(1000, '1')).toEqual([0]);
  });

  it('tolerates spaces around counts', () => {
    expect(respacedTimesteps(300, ' 10, 15 ,20 ')).toEqual(respacedTimesteps(300, '10,15,20'));
  });
});

describe('respacedTimesteps: diffusers spacings by name', () => {
  it('N = 10 on T = 1000: linspace, leading, trailing', () => {
    expect(respacedTimesteps(1000, 'linspace:10')).toEqual(every(0, 111, 10));
    expect(respacedTimesteps(1000, 'leading:10')).toEqual(every(0, 100, 10));
    expect(respacedTimesteps(1000, 'trailing:10')).toEqual(every(99, 100, 10));
  });

  it('N = 7 on T = 1000 matches numpy (non-integer ratios)', () => {
    expect(respacedTimesteps(1000, 'linspace:7')).toEqual([0, 166, 333, 500, 666, 832, 999]);
    expect(respacedTimesteps(1000, 'leading:7')).toEqual(every(0, 142, 7));
    expect(respacedTimesteps(1000, 'trailing:7')).toEqual([142, 285, 428, 570, 713, 856, 999]);
  });

  it('gives exactly N steps where numpy arange would give N + 1 (trailing:58 on T = 59)', () => {
    const kept = respacedTimesteps(59, 'trailing:58');
    expect(kept.length).toBe(58);
    expect(kept[0]).toBeGreaterThanOrEqual(0);
    expect(kept[57]).toBe(58);
  });
});

describe('respacedTimesteps: invalid specs and T', () => {
  it.each([
    ['', /respacing spec is empty/],
    ['   ', /respacing spec is empty/],
    ['abc', /"abc": not a step count or a known spacing/],
    ['10,,20', /"10,,20": section 2 is missing/],
    ['10,', /section 2 is missing/],
    ['0', /section 1 must be at least 1, got zero/],
    ['10,0', /section 2 must be at least 1, got zero/],
    ['-5', /section 1 must be a positive integer, got negative -5/],
    ['2.5', /section 1 must be an integer, got non-integer 2.5/],
    ['1e2', /must be written as plain digits/],
    ['1001', /asks for 1001 steps, more steps than the schedule's T = 1000/],
    ['600,600', /asks for 1200 steps, more steps than/],
    ['900,10', /section 1 has 500 steps and cannot be divided into 900/],
    ['ddim', /'ddim' step count is missing/],
    ['ddim0', /'ddim' step count must be at least 1, got zero/],
    ['ddimx', /'ddim' step count "x" is not a number/],
    ['ddim-3', /'ddim' step count must be a positive integer, got negative -3/],
    ['ddim1001', /more steps than the schedule's T = 1000/],
    ['ddim999', /cannot take exactly 999 steps from T = 1000 with an integer stride/],
    ['leading:', /'leading:' step count is missing/],
    ['trailing:x', /'trailing:' step count "x" is not a number/],
    ['linspace:0', /'linspace:' step count must be at least 1, got zero/],
    ['linspace:2.5', /must be an integer, got non-integer 2.5/],
    ['leading:1001', /more steps than the schedule's T = 1000/],
    ['uniform:10', /unknown spacing 'uniform'/],
    [':10', /unknown spacing ''/],
  ])('rejects %j', (spec, message) => {
    expectScheduleError(() => respacedTimesteps(1000, spec), message);
  });

  it('rejects a spec that is not a string', () => {
    expectScheduleError(() => respacedTimesteps(1000, 50 as unknown as string), /respacing spec must be a string, got 50/);
  });

  it.each([0, -1, 2.5, Number.NaN])('rejects T = %s', (trainingTimesteps) => {
    expectScheduleError(() => respacedTimesteps(trainingTimesteps, '10'), /trainingTimesteps .* must be a positive integer/);
  });

  it('rejects duplicate, unordered or out-of-range kept steps', () => {
    expectScheduleError(() => assertKeptTimesteps([0, 5, 5, 9], 10, 's'), /keeps timestep 5 twice \(duplicate kept steps\)/);
    expectScheduleError(() => assertKeptTimesteps([0, 6, 5], 10, 's'), /out of order \(6 then 5\)/);
    expectScheduleError(() => assertKeptTimesteps([0, 10], 10, 's'), /keeps timestep 10, outside 0..9/);
    expectScheduleError(() => assertKeptTimesteps([], 10, 's'), /keeps no steps/);
    expect(() => assertKeptTimesteps([0, 3, 9], 10, 's')).not.toThrow();
  });
});
