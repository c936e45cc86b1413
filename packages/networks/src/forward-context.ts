import * as tf from '@tensorflow/tfjs-core';
import type { NoiseSource } from '@tfjs-diffusion/core';

/** What a layer needs to know about the current forward pass. */
export interface ForwardContext {
  readonly training: boolean;
  /** Inverted dropout (Srivastava et al. 2014) in training, the identity otherwise. */
  dropout<T extends tf.Tensor>(x: T, rate: number): T;
}

/**
 * A forward context whose dropout masks come from the host-side `noise` (so a seed gives the same
 * masks on every backend): keep with probability 1 - rate, kept values scaled by 1 / (1 - rate).
 */
export function createForwardContext(training: boolean, noise: NoiseSource): ForwardContext {
  return {
    training,
    dropout(x, rate) {
      if (!training || rate <= 0) return x;
      const uniform = noise.uniform(x.size);
      const mask = new Float32Array(x.size);
      const keep = 1 - rate;
      for (let position = 0; position < x.size; position += 1) mask[position] = (uniform[position] as number) < keep ? 1 / keep : 0;
      return tf.mul(x, tf.tensor(mask, x.shape));
    },
  };
}
