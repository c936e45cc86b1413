import * as tf from '@tensorflow/tfjs-core';
import { useBackend, withBackend } from './describe-on-backends.js';

const references = new Map<string, Promise<unknown>>();

/**
 * The cpu backend's result of `compute` (host data only), computed once per test file: directly
 * when cpu is active, else by switching to cpu and back.
 */
export function cpuReference<Result>(key: string, compute: () => Promise<Result>): Promise<Result> {
  let reference = references.get(key) as Promise<Result> | undefined;
  if (reference === undefined) {
    reference = tf.getBackend() === 'cpu' ? compute() : withBackend('cpu', compute);
    references.set(key, reference);
  }
  return reference;
}

export { useBackend };
