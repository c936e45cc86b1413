import { describe, expect, it } from 'vitest';
import { roundHalfEven } from './round-half-even.js';

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour, like Python round and np.round', () => {
    expect([0.5, 1.5, 2.5, 3.5, 166.5, 499.5, 832.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 166, 500, 832]);
  });

  it('rounds everything else to the nearest integer', () => {
    expect([0, 0.49, 0.51, 7.0714, 114.142857, 998.9999999].map(roundHalfEven)).toEqual([0, 0, 1, 7, 114, 999]);
  });
});
