import { describe, expect, it } from 'vitest';
import { lossSummary, meanOfLast, smoothLoss } from './loss-history.js';

describe('loss history', () => {
  it('smoothLoss is a trailing median, so single spikes do not move it', () => {
    expect(smoothLoss([1, 3, 2, 100, 2, 1], 3)).toEqual([1, 2, 2, 3, 2, 2]);
    expect(smoothLoss([4, Number.NaN, 2], 2)).toEqual([4, 4, 2]);
    expect(smoothLoss([Number.NaN], 1)).toEqual([Number.NaN]);
  });

  it('summarises count, ends, minimum and the mean of the last 100', () => {
    const history = Array.from({ length: 150 }, (_, index) => index);
    expect(lossSummary(history)).toEqual({ count: 150, first: 0, last: 149, meanOfLast100: 99.5, min: 0 });
    expect(lossSummary([])).toEqual({ count: 0, first: null, last: null, meanOfLast100: null, min: null });
    expect(meanOfLast([1, 2, 3, 4], 2)).toBe(3.5);
  });
});
