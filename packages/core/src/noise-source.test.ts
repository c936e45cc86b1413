import { describe, expect, it } from 'vitest';
import { createNoiseSource } from './noise-source.js';

describe('createNoiseSource', () => {
  it('gives the same numbers for the same seed and different ones for another', () => {
    const a = createNoiseSource(42).normal([1000]);
    const b = createNoiseSource(42).normal([1000]);
    const c = createNoiseSource(43).normal([1000]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('draws standard normals (mean 0, variance 1 within sampling error)', () => {
    const values = createNoiseSource('moments').normal([200_000]);
    let sum = 0;
    let sumSquares = 0;
    for (const value of values) {
      sum += value;
      sumSquares += value * value;
    }
    const mean = sum / values.length;
    const variance = sumSquares / values.length - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.015);
  });

  it('draws uniform integers covering the whole range', () => {
    const counts = new Array<number>(10).fill(0);
    for (const value of createNoiseSource(7).integers(50_000, 10)) counts[value] = (counts[value] as number) + 1;
    for (const count of counts) expect(Math.abs(count - 5000)).toBeLessThan(300);
  });

  it('restores its state so a resumed stream continues exactly', () => {
    const source = createNoiseSource(5);
    source.uniform(17);
    const state = source.getState();
    const expected = source.normal([33]);
    const resumed = createNoiseSource(999);
    resumed.setState(JSON.parse(JSON.stringify(state)));
    expect(Array.from(resumed.normal([33]))).toEqual(Array.from(expected));
  });

  it('rejects bad arguments with a named error', () => {
    const source = createNoiseSource(1);
    expect(() => source.integers(3, 0)).toThrow(/maxExclusive/);
    expect(() => source.normal([2, -1])).toThrow(/noise shape/);
    expect(() => createNoiseSource(Number.NaN)).toThrow(/seed/);
    expect(() => source.setState({ algorithm: 'mt' } as never)).toThrow(/state/);
  });
});
