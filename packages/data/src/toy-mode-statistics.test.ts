import { describe, expect, it } from 'vitest';
import { modeStatistics } from './toy-mode-statistics.js';

describe('modeStatistics', () => {
  it('assigns each sample to its nearest mode within k std and reports the shares', () => {
    const modes = [
      [0, 0],
      [4, 0],
      [0, 4],
    ] as const;
    // two near mode 0, one near mode 1 (distance 0.5 = 2.5 std), one far from all (distance 2 from mode 0)
    const samples = Float32Array.from([0.1, 0, -0.2, 0.1, 4, 0.5, 2, 0]);
    const statistics = modeStatistics(samples, modes, 0.2);
    expect(statistics.withinFraction).toBe(0.75);
    expect(statistics.perModeFraction).toEqual([0.5, 0.25, 0]);
    // with k = 2 the sample at 2.5 std no longer counts
    expect(modeStatistics(samples, modes, 0.2, 2).perModeFraction).toEqual([0.5, 0, 0]);
  });
});
