import { describe, expect, it } from 'vitest';
import { smoothLoss } from './train-diffusion.js';

describe('smoothLoss', () => {
  it('is a trailing median, so single spikes do not move it', () => {
    expect(smoothLoss([1, 3, 2, 100, 2, 1], 3)).toEqual([1, 2, 2, 3, 2, 2]);
    expect(smoothLoss([4, Number.NaN, 2], 2)).toEqual([4, 4, 2]);
  });
});
