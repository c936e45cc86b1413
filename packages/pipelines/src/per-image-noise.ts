import { DiffusionError, createNoiseSource, type NoiseSource, type NoiseSourceState } from '@tfjs-diffusion/core';

/** The noise-stream seed of image `index` of a generate call with `seed`: `${seed}/image-${index}`. */
export function imageNoiseSeed(seed: number | string, index: number): string {
  return `${seed}/image-${index}`;
}

/**
 * A NoiseSource for a batch whose image i draws from its own stream `createNoiseSource(seeds[i])`:
 * `normal([batch, ...rest])` concatenates each image's `normal(rest)`. A sampler draws x_T and
 * every step's noise with the batch's leading dimension, so an image's noise depends only on its
 * own seed, never on the batch it shares or its place in it.
 */
export function perImageNoiseSource(seeds: readonly (number | string)[]): NoiseSource {
  const sources = seeds.map((seed) => createNoiseSource(seed));
  const batch = sources.length;
  const refuse = (what: string): never => {
    throw new DiffusionError('invalid-argument', `perImageNoiseSource: ${what} is not per image; samplers draw noise with normal([batch, ...])`);
  };
  return {
    normal(shape: readonly number[]): Float32Array {
      if (shape[0] !== batch) refuse(`normal([${shape.join(', ')}]) for a batch of ${batch}`);
      const rest = shape.slice(1);
      const each = rest.reduce((product, size) => product * size, 1);
      const out = new Float32Array(batch * each);
      sources.forEach((source, index) => out.set(source.normal(rest), index * each));
      return out;
    },
    uniform: () => refuse('uniform()'),
    integers: () => refuse('integers()'),
    getState: (): NoiseSourceState => refuse('getState()'),
    setState: () => refuse('setState()'),
  };
}
