import * as tf from '@tensorflow/tfjs-core';

/**
 * Global-norm gradient clipping (Pascanu et al. 2013): scales every gradient by
 * min(1, maxNorm / ||g||). Returns the clipped gradients (new tensors) and the norm before clipping.
 */
export function clipByGlobalNorm(gradients: ReadonlyMap<string, tf.Tensor>, maxNorm: number, globalNorm: number): Map<string, tf.Tensor> {
  const scale = maxNorm > 0 && globalNorm > maxNorm ? maxNorm / globalNorm : 1;
  const clipped = new Map<string, tf.Tensor>();
  for (const [name, gradient] of gradients) clipped.set(name, scale === 1 ? tf.clone(gradient) : tf.mul(gradient, scale));
  return clipped;
}

/** The global L2 norm of a set of gradients, as a scalar tensor. */
export function globalNorm(gradients: Iterable<tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    const squares = [...gradients].map((gradient) => tf.sum(tf.square(gradient)));
    // Stack, then sum: tfjs-backend-webgpu's AddN binds every input in one shader, which exceeds
    // WebGPU's limit of 8 storage buffers past 7 inputs and silently drops the command buffer.
    return tf.sqrt(squares.length > 0 ? tf.sum(tf.stack(squares)) : tf.scalar(0)) as tf.Scalar;
  });
}
