import type { Tensor, Tensor1D, Variable } from '@tensorflow/tfjs-core';

/** What the network's main output means: the noise (DDPM), the clean data, or v (Salimans & Ho 2022). */
export type PredictionKind = 'epsilon' | 'x0' | 'v';

export const PREDICTION_KINDS: readonly PredictionKind[] = ['epsilon', 'x0', 'v'];

/**
 * The reverse-process variance (Improved DDPM, section 3.1):
 * - 'fixed-small': betaTilde_t, the posterior variance;
 * - 'fixed-large': beta_t (betaTilde_1 at t = 0, as improved-diffusion does);
 * - 'learned-range': the network outputs v in [-1, 1] and
 *   log Sigma = (v + 1)/2 log beta_t + (1 - (v + 1)/2) log betaTilde_t (eq. 15 of Improved DDPM).
 */
export type VarianceKind = 'fixed-small' | 'fixed-large' | 'learned-range';

export const VARIANCE_KINDS: readonly VarianceKind[] = ['fixed-small', 'fixed-large', 'learned-range'];

/** Class conditioning. `nullClass` (usually `numClasses`) is the label meaning "no class" for classifier-free guidance. */
export interface ClassConditioning {
  readonly kind: 'class';
  readonly numClasses: number;
  readonly nullClass: number | null;
}

export interface ModelCondition {
  /** int32 labels, one per sample; `nullClass` for unconditional. */
  readonly classLabels?: Tensor1D;
}

export interface ModelInput {
  /** x_t, [batch, ...dataShape]. */
  readonly x: Tensor;
  /** The ORIGINAL timesteps t (not respaced indices), float32 [batch]. */
  readonly timesteps: Tensor1D;
  readonly condition?: ModelCondition;
  /** Enables dropout and other training-only behaviour. */
  readonly training?: boolean;
}

export interface ModelOutput {
  /** The prediction named by `DiffusionModel.prediction`, same shape as x. */
  readonly prediction: Tensor;
  /** With 'learned-range' variance: v in [-1, 1], same shape as x. */
  readonly varianceValues?: Tensor;
  /**
   * Set by classifier guidance: s * grad_x log p(y | x_t). Samplers apply it their own way:
   * a mean shift Sigma * g in ancestral steps (ADM Algorithm 1), an epsilon shift
   * -sqrt(1 - alphaBar) * g in deterministic ones (ADM Algorithm 2). A wrapper that evaluates
   * several branches (classifier-free guidance) combines gradients like it combines predictions.
   */
  readonly guidanceGradient?: Tensor;
}

/**
 * A denoiser as samplers, objectives and guidance see it. `predict` is synchronous so that it
 * can run inside `tf.tidy` and inside gradient computations.
 */
export interface DiffusionModel {
  readonly prediction: PredictionKind;
  readonly variance: VarianceKind;
  readonly conditioning: ClassConditioning | null;
  predict(input: ModelInput): ModelOutput;
}

/** A model with named trainable parameters and a JSON config (what a checkpoint stores). */
export interface TrainableDiffusionModel extends DiffusionModel {
  readonly parameters: ReadonlyMap<string, Variable>;
  readonly config: Readonly<Record<string, unknown>>;
  dispose(): void;
}
