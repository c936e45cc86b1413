import { describe, expect, it } from 'vitest';
import { resizeCoverCrop } from './resize.js';

describe('resizeCoverCrop', () => {
  it('keeps a constant image constant at every size', () => {
    for (const [width, height] of [
      [7, 5],
      [3, 11],
      [64, 64],
      [2, 2],
    ] as const) {
      for (const size of [1, 4, 9, 32]) {
        const result = resizeCoverCrop(new Float32Array(width * height * 3).fill(42), width, height, 3, size);
        expect(result.length).toBe(size * size * 3);
        result.forEach((value) => expect(value).toBeCloseTo(42, 3));
      }
    }
  });

  it('crops the centre of the longer side', () => {
    // 4 wide x 2 high, columns 0, 100, 200, 255: cover 2x2 keeps the middle two columns.
    const pixels = Float32Array.from([0, 100, 200, 255, 0, 100, 200, 255]);
    expect([...resizeCoverCrop(pixels, 4, 2, 1, 2)]).toEqual([100, 200, 100, 200]);
    // 1 wide x 3 high -> the middle row.
    expect([...resizeCoverCrop(Float32Array.from([1, 2, 3]), 1, 3, 1, 1)]).toEqual([2]);
  });

  it('averages areas when shrinking', () => {
    // 4x4 made of 2x2 blocks -> 2x2 block values; 3x3 -> 1 is the mean.
    const blocks = Float32Array.from([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect([...resizeCoverCrop(blocks, 4, 4, 1, 2)]).toEqual([1, 2, 3, 4]);
    expect(resizeCoverCrop(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 3, 1, 1)[0]).toBeCloseTo(5, 5);
    // 3 -> 2: each output covers 1.5 source pixels.
    const row = resizeCoverCrop(Float32Array.from([0, 3, 6, 0, 3, 6, 0, 3, 6]), 3, 3, 1, 2);
    expect(row[0]).toBeCloseTo((0 * 1 + 3 * 0.5) / 1.5, 5);
    expect(row[1]).toBeCloseTo((3 * 0.5 + 6 * 1) / 1.5, 5);
  });

  it('interpolates bilinearly at pixel centres when enlarging', () => {
    const square = resizeCoverCrop(Float32Array.from([0, 4, 0, 4]), 2, 2, 1, 4);
    expect([...square.subarray(0, 4)]).toEqual([0, 1, 3, 4]);
  });
});
