import { DiffusionError } from './errors.js';

/**
 * A seeded source of random numbers produced on the host, so that a seed gives the same noise,
 * and so the same samples, on every backend. Tensors are made from its arrays with `tf.tensor`.
 */
export interface NoiseSource {
  /** Standard normal samples, as many as the product of `shape`. */
  normal(shape: readonly number[]): Float32Array;
  /** Uniform samples in [0, 1). */
  uniform(count: number): Float64Array;
  /** Uniform integers in [0, maxExclusive). */
  integers(count: number, maxExclusive: number): Int32Array;
  /** The generator state, as JSON-safe data, to save with a checkpoint. */
  getState(): NoiseSourceState;
  /** Restores a state from `getState`, so a resumed run draws exactly what it would have drawn. */
  setState(state: NoiseSourceState): void;
}

export interface NoiseSourceState {
  readonly algorithm: 'xoshiro128**';
  readonly words: readonly [number, number, number, number];
}

/** splitmix32, used only to expand a seed into xoshiro's state. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashSeed(seed: number | string): number {
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new DiffusionError('invalid-argument', `seed must be a finite number, got ${seed}`);
    return (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
  }
  let hash = 0x811c9dc5;
  for (let position = 0; position < seed.length; position += 1) {
    hash = Math.imul(hash ^ seed.charCodeAt(position), 0x01000193) >>> 0;
  }
  return hash;
}

/** A `NoiseSource` on xoshiro128** (Blackman & Vigna) with Box-Muller normals. */
export function createNoiseSource(seed: number | string): NoiseSource {
  const expand = splitmix32(hashSeed(seed));
  const words = new Uint32Array([expand(), expand(), expand(), expand()]);
  if (words.every((word) => word === 0)) words[0] = 1;

  const nextUint32 = (): number => {
    const s0 = words[0] as number;
    const s1 = words[1] as number;
    const s2 = words[2] as number;
    const s3 = words[3] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const shifted = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    words[1] = (s1 ^ n2) >>> 0;
    words[0] = (s0 ^ n3) >>> 0;
    words[2] = (n2 ^ shifted) >>> 0;
    words[3] = rotl(n3, 11);
    return result;
  };
  // 53-bit uniform in [0, 1).
  const nextDouble = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;

  return {
    normal(shape) {
      const count = shape.reduce((product, size) => {
        if (!Number.isInteger(size) || size < 0) {
          throw new DiffusionError('invalid-shape', `noise shape must hold non-negative integers, got [${shape.join(', ')}]`);
        }
        return product * size;
      }, 1);
      const values = new Float32Array(count);
      for (let position = 0; position < count; position += 2) {
        // Box-Muller: two independent normals from two uniforms; 1 - u keeps the log finite.
        const radius = Math.sqrt(-2 * Math.log(1 - nextDouble()));
        const angle = 2 * Math.PI * nextDouble();
        values[position] = radius * Math.cos(angle);
        if (position + 1 < count) values[position + 1] = radius * Math.sin(angle);
      }
      return values;
    },
    uniform(count) {
      const values = new Float64Array(count);
      for (let position = 0; position < count; position += 1) values[position] = nextDouble();
      return values;
    },
    integers(count, maxExclusive) {
      if (!Number.isInteger(maxExclusive) || maxExclusive <= 0) {
        throw new DiffusionError('invalid-argument', `integers: maxExclusive must be a positive integer, got ${maxExclusive}`);
      }
      const values = new Int32Array(count);
      for (let position = 0; position < count; position += 1) values[position] = Math.floor(nextDouble() * maxExclusive);
      return values;
    },
    getState() {
      return { algorithm: 'xoshiro128**', words: [words[0], words[1], words[2], words[3]] as [number, number, number, number] };
    },
    setState(state) {
      if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(state.words) || state.words.length !== 4) {
        throw new DiffusionError('invalid-argument', 'noise source state must come from getState() of an xoshiro128** source');
      }
      state.words.forEach((word, position) => {
        words[position] = word >>> 0;
      });
    },
  };
}

function rotl(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}
