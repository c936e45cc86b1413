import type { Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core';

/**
 * A noise-aware classifier p_phi(y | x_t, t) for classifier guidance (Dhariwal & Nichol 2021,
 * section 4). `logits` is synchronous so that guidance can differentiate it with respect to x_t.
 */
export interface NoisyClassifier {
  readonly numClasses: number;
  logits(input: { readonly x: Tensor; readonly timesteps: Tensor1D; readonly training?: boolean }): Tensor2D;
}

export interface TrainableNoisyClassifier extends NoisyClassifier {
  readonly parameters: ReadonlyMap<string, Variable>;
  readonly config: Readonly<Record<string, unknown>>;
  dispose(): void;
}
