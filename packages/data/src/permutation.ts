import type { NoiseSource } from '@tfjs-diffusion/core';

/** A uniformly random permutation of 0..count-1 (Fisher-Yates / Durstenfeld) drawing `count - 1` uniforms. */
export function randomPermutation(count: number, noise: NoiseSource): Int32Array {
  const order = Int32Array.from({ length: count }, (_, index) => index);
  const uniforms = noise.uniform(Math.max(0, count - 1));
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor((uniforms[index - 1] as number) * (index + 1));
    const swap = order[index] as number;
    order[index] = order[other] as number;
    order[other] = swap;
  }
  return order;
}
