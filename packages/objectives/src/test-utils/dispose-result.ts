import * as tf from '@tensorflow/tfjs-core';
import type { ObjectiveResult } from '@tfjs-diffusion/core';

/** Disposes every tensor of an objective's result. */
export function disposeResult(result: ObjectiveResult): void {
  tf.dispose([result.loss, result.perSampleLoss, ...Object.values(result.terms)]);
}
