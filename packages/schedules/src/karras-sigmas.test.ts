import { DiffusionError } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { karrasSigmas } from './karras-sigmas.js';

describe('karrasSigmas', () => {
  it('matches eq. 5 of Karras et al. for n = 10, [0.002, 80], rho = 7, ending with 0', () => {
    const sigmas = karrasSigmas({ count: 10, sigmaMin: 0.002, sigmaMax: 80 });
    const expected = [80, 42.4152, 21.1087, 9.7232, 4.0661, 1.5017, 0.47, 0.1166, 0.0204, 0.002, 0];
    expect(sigmas).toBeInstanceOf(Float64Array);
    expect(sigmas.length).toBe(11);
    expected.forEach((value, index) => expect(Math.abs((sigmas[index] as number) - value)).toBeLessThan(6e-5));
    expect(sigmas[0]).toBe(80);
    expect(sigmas[9]).toBe(0.002);
    expect(sigmas[10]).toBe(0);
  });

  it('is linear in sigma^(1/rho) and descending', () => {
    const rho = 3;
    const sigmas = karrasSigmas({ count: 6, sigmaMin: 0.1, sigmaMax: 10, rho });
    const roots = Array.from(sigmas.subarray(0, 6), (sigma) => sigma ** (1 / rho));
    for (let index = 1; index < 6; index += 1) {
      expect(sigmas[index]).toBeLessThan(sigmas[index - 1] as number);
      expect(Math.abs((roots[index] as number) - (roots[index - 1] as number) - ((roots[1] as number) - (roots[0] as number)))).toBeLessThan(1e-12);
    }
  });

  it('gives [sigmaMax, 0] for one step', () => {
    expect(Array.from(karrasSigmas({ count: 1, sigmaMin: 0.002, sigmaMax: 80 }))).toEqual([80, 0]);
  });

  it.each([
    [{ count: 0, sigmaMin: 0.002, sigmaMax: 80 }, /count must be a positive integer, got 0/],
    [{ count: 2.5, sigmaMin: 0.002, sigmaMax: 80 }, /count must be a positive integer, got 2.5/],
    [{ count: 10, sigmaMin: 0, sigmaMax: 80 }, /sigmaMin must be a finite positive number, got 0/],
    [{ count: 10, sigmaMin: 0.002, sigmaMax: Number.POSITIVE_INFINITY }, /sigmaMax must be a finite positive number/],
    [{ count: 10, sigmaMin: 0.002, sigmaMax: 80, rho: -1 }, /rho must be a finite positive number, got -1/],
    [{ count: 10, sigmaMin: 90, sigmaMax: 80 }, /sigmaMin \(90\) must not exceed sigmaMax \(80\)/],
  ])('rejects %j', (options, message) => {
    expect(() => karrasSigmas(options)).toThrow(DiffusionError);
    expect(() => karrasSigmas(options)).toThrow(message);
  });
});
