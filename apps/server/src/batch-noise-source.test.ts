import { createNoiseSource, DiffusionError } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { createBatchNoiseSource } from './batch-noise-source.js';

describe('createBatchNoiseSource', () => {
  it("draws each request's rows from its own source, as if it were alone", () => {
    const batch = createBatchNoiseSource([
      { rows: 2, source: createNoiseSource(7) },
      { rows: 1, source: createNoiseSource(9) },
    ]);
    const alone7 = createNoiseSource(7);
    const alone9 = createNoiseSource(9);
    for (let draw = 0; draw < 3; draw += 1) {
      const values = batch.normal([3, 2, 3]);
      expect(Array.from(values.subarray(0, 12))).toEqual(Array.from(alone7.normal([2, 2, 3])));
      expect(Array.from(values.subarray(12))).toEqual(Array.from(alone9.normal([1, 2, 3])));
    }
  });

  it('rejects a shape that does not start with the batch size, and other kinds of draws', () => {
    const batch = createBatchNoiseSource([{ rows: 2, source: createNoiseSource(1) }]);
    expect(() => batch.normal([3, 4])).toThrow(/batch size 2/);
    expect(() => batch.uniform(3)).toThrow(DiffusionError);
    expect(() => batch.integers(3, 2)).toThrow(DiffusionError);
  });
});
