import { DiffusionError, samplingSteps } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { createSchedule } from './create-schedule.js';
import { respaceSchedule } from './respace-schedule.js';

describe('respaceSchedule', () => {
  const linear = createSchedule({ kind: 'linear', timesteps: 1000 });
  const cosine = createSchedule({ kind: 'cosine', timesteps: 1000 });

  it('keeps the original alphaBar at each kept step and recomputes the betas', () => {
    const respaced = respaceSchedule(cosine, 'ddim50');
    expect(respaced.timesteps).toEqual(Array.from({ length: 50 }, (_, index) => index * 20));
    expect(respaced.betas.length).toBe(50);
    respaced.timesteps.forEach((timestep, index) => {
      expect(respaced.alphaBars[index]).toBe(cosine.alphaBars[timestep]);
      const previous = index === 0 ? 1 : (cosine.alphaBars[respaced.timesteps[index - 1] as number] as number);
      expect(respaced.betas[index]).toBe(1 - (cosine.alphaBars[timestep] as number) / previous);
    });
    expect(respaced.betas[0]).toBe(cosine.betas[0]);
  });

  it('sets the identity: kind and T unchanged, respacing = spec, original timesteps', () => {
    const respaced = respaceSchedule(linear, 'trailing:10');
    expect(respaced.kind).toBe('linear');
    expect(respaced.trainingTimesteps).toBe(1000);
    expect(respaced.respacing).toBe('trailing:10');
    expect(respaced.timesteps).toEqual([99, 199, 299, 399, 499, 599, 699, 799, 899, 999]);
    // the first kept step is 99, so its beta covers the whole jump from alphaBar = 1
    expect(respaced.betas[0]).toBeCloseTo(1 - (linear.alphaBars[99] as number), 15);
    expect(respaced.posteriorVariances[0]).toBe(0);
    expect(samplingSteps(respaced)[0]).toMatchObject({ index: 9, timestep: 999, previousIndex: 8, previousTimestep: 899 });
  });

  it('returns the original betas (within 1e-12) when it keeps all T steps', () => {
    for (const schedule of [linear, cosine]) {
      const respaced = respaceSchedule(schedule, '1000');
      expect(respaced.respacing).toBe('1000');
      for (let index = 0; index < 1000; index += 1) {
        expect(Math.abs((respaced.betas[index] as number) - (schedule.betas[index] as number))).toBeLessThan(1e-12);
        expect(Math.abs((respaced.posteriorVariances[index] as number) - (schedule.posteriorVariances[index] as number))).toBeLessThan(1e-12);
      }
    }
  });

  it('has recomputed alphas whose product gives back the kept alphaBars', () => {
    const respaced = respaceSchedule(linear, '10,15,20');
    let product = 1;
    respaced.alphas.forEach((alpha, index) => {
      product *= alpha;
      expect(Math.abs(product / (respaced.alphaBars[index] as number) - 1)).toBeLessThan(1e-12);
    });
  });

  it('leaves the original schedule untouched', () => {
    const before = Array.from(linear.betas);
    respaceSchedule(linear, 'ddim10');
    expect(Array.from(linear.betas)).toEqual(before);
    expect(linear.respacing).toBeNull();
  });

  it('rejects respacing a respaced schedule', () => {
    const respaced = respaceSchedule(linear, 'ddim50');
    expect(() => respaceSchedule(respaced, '10')).toThrow(DiffusionError);
    expect(() => respaceSchedule(respaced, '10')).toThrow(/already respaced \(with "ddim50"\); respace the full schedule instead/);
  });

  it('rejects a schedule whose arrays do not cover T', () => {
    const truncated = { ...linear, trainingTimesteps: 2000 };
    expect(() => respaceSchedule(truncated, '10')).toThrow(/not a full schedule \(it has 1000 steps, trainingTimesteps is 2000\)/);
  });

  it('passes invalid specs on as invalid-schedule errors', () => {
    try {
      respaceSchedule(linear, 'ddim0');
      expect.unreachable();
    } catch (error) {
      expect((error as DiffusionError).code).toBe('invalid-schedule');
      expect((error as DiffusionError).message).toMatch(/'ddim' step count must be at least 1/);
    }
  });
});
