import { describe, expect, it } from 'vitest';
import { withinClassDiversity } from './sample-statistics.js';

describe('withinClassDiversity', () => {
  it('averages the mean pairwise distance within each class over classes', () => {
    // class 0: points (0,0), (3,4), (0,0): distances 5, 0, 5 -> mean 10/3; class 1: (1,1), (1,2): 1
    const features = Float64Array.from([0, 0, 3, 4, 1, 1, 0, 0, 1, 2]);
    const labels = [0, 0, 1, 0, 1];
    expect(withinClassDiversity(features, labels, 2)).toBeCloseTo((10 / 3 + 1) / 2, 12);
  });

  it('is 0 for identical samples and ignores classes with a single sample', () => {
    expect(withinClassDiversity(Float64Array.from([2, 2, 2, 2, 9, 9]), [5, 5, 7], 2)).toBe(0);
    expect(withinClassDiversity(Float64Array.from([1, 2]), [3], 2)).toBe(0);
  });
});
