import { describe, expect, it } from 'vitest';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToFloat16Bits } from './float16.js';

const isNaNBits = (bits: number): boolean => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

describe('float32 -> float16 rounding', () => {
  it('encodes known values, ties to even, overflow and subnormals', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // max finite
      [65519, 0x7bff], // just below the midpoint to 2^16
      [65520, 0x7c00], // midpoint: ties to even -> inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [1023.5 * 2 ** -24, 0x0400], // tie -> even (carries into the smallest normal)
      [2 ** -25, 0x0000], // tie between 0 and 2^-24 -> even 0
      [-(2 ** -25), 0x8000],
      [2 ** -25 * 1.0001, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps -> even 2
      [5 * 2 ** -25, 0x0002], // tie between 2 and 3 ulps -> even 2
      [2 ** -26, 0x0000],
      [1e-45, 0x0000], // float32 subnormal
      [1 + 2 ** -11, 0x3c00], // tie -> even
      [1 + 3 * 2 ** -11, 0x3c02], // tie -> even
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [0.1, 0x2e66],
      [-3.140625, 0xc248],
    ];
    for (const [value, bits] of cases) {
      expect(float32ToFloat16Bits(value), `${value}`).toBe(bits);
    }
    expect(isNaNBits(float32ToFloat16Bits(NaN))).toBe(true);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
  });

  it('round-trips every binary16 bit pattern exactly', () => {
    for (let bits = 0; bits < 0x10000; bits += 1) {
      if (isNaNBits(bits)) continue;
      const value = float16BitsToFloat32(bits);
      expect(Math.fround(value)).toBe(value);
      if (float32ToFloat16Bits(value) !== bits)
        expect.fail(`bits 0x${bits.toString(16)} -> ${value} -> 0x${float32ToFloat16Bits(value).toString(16)}`);
    }
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
  });

  it('picks the nearest binary16 value (ties to even) for random float32 inputs', () => {
    const noise = createNoiseSource('float16-nearest');
    const uniforms = noise.uniform(40_000);
    for (let index = 0; index < uniforms.length; index += 2) {
      const magnitude = 2 ** (Math.floor((uniforms[index] as number) * 43) - 28); // 2^-28 .. 2^14, so |value| < 2^15
      const value = Math.fround(((uniforms[index + 1] as number) * 2 - 1) * magnitude * 2);
      const bits = float32ToFloat16Bits(value);
      const chosen = float16BitsToFloat32(bits);
      const error = Math.abs(chosen - value);
      for (const neighbour of [bits - 1, bits + 1]) {
        if (neighbour < 0 || (neighbour & 0x7fff) > 0x7bff || ((neighbour ^ bits) & 0x8000) !== 0) continue;
        const other = Math.abs(float16BitsToFloat32(neighbour) - value);
        if (other < error || (other === error && (bits & 1) === 1))
          expect.fail(`${value}: chose 0x${bits.toString(16)}, 0x${neighbour.toString(16)} is nearer or even`);
      }
    }
  });

  it('decodes bfloat16 as the top half of a float32', () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat32(0xc020)).toBe(-2.5);
    expect(bfloat16BitsToFloat32(0x7f80)).toBe(Infinity);
    expect(Object.is(bfloat16BitsToFloat32(0x8000), -0)).toBe(true);
  });
});
