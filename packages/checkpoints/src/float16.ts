// IEEE 754 binary16 and bfloat16 conversions on raw bit patterns, so that a checkpoint written on
// any platform reads back bit-exactly (no reliance on Float16Array, absent from Node 20).

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** Float32 -> IEEE binary16 bits, round-to-nearest-even with overflow to ±inf and subnormals (as numpy's npy_floatbits_to_halfbits). */
export function float32ToFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  // 1. Inf and NaN: NaN keeps its top payload bits and stays a (quiet) NaN.
  if (exponent === 0xff) {
    if (mantissa === 0) return sign | 0x7c00;
    return sign | 0x7e00 | (mantissa >>> 13);
  }
  // 2. |value| >= 2^16 overflows binary16 (max finite 65504) whatever the rounding.
  if (exponent >= 0x8f) return sign | 0x7c00;
  // 3. Result is subnormal or zero in binary16 (unbiased exponent <= -15).
  if (exponent <= 0x70) {
    // Below 2^-25 everything rounds to zero (2^-25 itself is a tie and rounds to even, zero).
    if (exponent < 0x66) return sign;
    const significand = mantissa | 0x800000;
    const shift = 126 - exponent; // 14..24
    let half = significand >>> shift;
    const remainder = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half += 1;
    return sign | half; // a carry into 0x0400 is the smallest normal, encoded correctly
  }
  // 4. Normal: rebias the exponent, keep 10 mantissa bits, round the 13 dropped bits to nearest even.
  let half = ((exponent - 112) << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half += 1; // carry may reach 0x7c00 = inf
  return sign | half;
}

/** IEEE binary16 bits -> float32 value (exact: every binary16 value is a float32 value). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** bfloat16 bits -> float32 value (the top 16 bits of a float32, exact). */
export function bfloat16BitsToFloat32(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratchFloat[0] as number;
}
