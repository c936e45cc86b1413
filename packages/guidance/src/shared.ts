import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { DiffusionError, type ClassConditioning, type DiffusionModel, type ModelInput } from '@tfjs-diffusion/core';

/** The class labels of `input`, checked to be int32 [batch]; `what` names the guidance in the error. */
export function requireClassLabels(input: ModelInput, what: string): Tensor1D {
  const labels = input.condition?.classLabels;
  if (!labels) {
    throw new DiffusionError('invalid-argument', `${what} needs condition.classLabels (int32 [batch]) to know which class to guide towards`);
  }
  const batch = input.x.shape[0];
  if (labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new DiffusionError(
      'invalid-shape',
      `${what}: condition.classLabels must have shape [${batch}] (one label per sample of x), got [${labels.shape.join(', ')}]`,
    );
  }
  if (labels.dtype !== 'int32') {
    throw new DiffusionError('invalid-argument', `${what}: condition.classLabels must be int32, got ${labels.dtype}`);
  }
  return labels;
}

/** Throws unless `scale` is a finite number >= 0 (w = 0 means no guidance). */
export function checkScale(scale: unknown, what: string): number {
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
    throw new DiffusionError('invalid-argument', `${what}: scale must be a finite number >= 0 (0 means no guidance), got ${String(scale)}`);
  }
  return scale;
}

/** Keeps only the tensors that are present, so the result can be returned from tf.tidy. */
export function definedTensors<T extends Record<string, Tensor | undefined>>(record: T): T {
  const kept: Record<string, Tensor> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) kept[key] = value;
  return kept as T;
}

/** The model's class conditioning with its null class (label dropout), or a named error; `what` names the caller. */
export function requireNullClass(model: DiffusionModel, what: string): ClassConditioning & { readonly nullClass: number } {
  const conditioning = model.conditioning;
  if (conditioning?.kind !== 'class' || conditioning.nullClass === null || conditioning.nullClass === undefined) {
    throw new DiffusionError(
      'invalid-argument',
      `${what} needs a class-conditional model with a nullClass (trained with label dropout); ` +
        (conditioning ? `this model's conditioning has nullClass ${String(conditioning.nullClass)}` : 'this model is unconditional'),
    );
  }
  return conditioning as ClassConditioning & { readonly nullClass: number };
}
