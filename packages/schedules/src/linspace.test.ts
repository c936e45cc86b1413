import { describe, expect, it } from 'vitest';
import { linspace } from './linspace.js';

describe('linspace', () => {
  it('spaces values evenly and hits both end points exactly', () => {
    const values = linspace(0.1, 20, 1000);
    expect(values.length).toBe(1000);
    expect(values[0]).toBe(0.1);
    expect(values[999]).toBe(20);
    expect(values[500]).toBeCloseTo(0.1 + (500 * 19.9) / 999, 12);
  });

  it('gives the start alone for one value, as numpy does', () => {
    expect(Array.from(linspace(3, 9, 1))).toEqual([3]);
  });
});
