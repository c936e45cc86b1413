import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';

// The networks package's finite-difference helper; its compare functions read with dataSync, which
// tfjs-backend-webgpu lacks in Node, so the comparisons below are asynchronous copies of them.
import { randomTensor, type GradientComparison } from '../../networks/src/test-utils/gradient-check.js';

export { projectToScalar, randomTensor, randomizeParameters } from '../../networks/src/test-utils/gradient-check.js';

/**
 * One directional derivative, tf.grad's and the central difference's, with `gradientNorm` = ||grad f||,
 * the typical size of a derivative along a random N(0, I) direction.
 */
export interface ScaledGradientComparison extends GradientComparison {
  readonly gradientNorm: number;
}

export interface GradientCheckOptions {
  /**
   * Step of the central difference: default 1e-2 for inputs, 3e-3 for variables (a direction of
   * N(0, 1) entries is a large change of weights of scale 0.3: at 1e-2 the O(eps^2) truncation error
   * reached 5e-3 in a residual block's conv weight). float32 rounding grows as it shrinks.
   */
  readonly epsilon?: number;
  /** Random directions to test (default 2). */
  readonly directions?: number;
  readonly seed?: string;
}

async function analyticOf(gradient: () => tf.Tensor, d: tf.Tensor): Promise<{ analytic: number; gradientNorm: number }> {
  const [dot, norm] = tf.tidy(() => {
    const g = gradient();
    return [tf.sum(tf.mul(g, d)), tf.norm(g)];
  });
  try {
    const [dotValue, normValue] = await Promise.all([dot.data(), norm.data()]);
    return { analytic: dotValue[0] as number, gradientNorm: normValue[0] as number };
  } finally {
    tf.dispose([dot, norm]);
  }
}

async function scalarOf(compute: () => tf.Scalar): Promise<number> {
  const value = tf.tidy(compute);
  try {
    return (await value.data())[0] as number;
  } finally {
    value.dispose();
  }
}

/**
 * Directional derivatives of f at x: <grad f(x), d> from tf.grad against the central difference
 * (f(x + eps d) - f(x - eps d)) / (2 eps), for random directions d; reads with `await data()`.
 */
export async function compareInputGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  options: GradientCheckOptions = {},
): Promise<ScaledGradientComparison[]> {
  const epsilon = options.epsilon ?? 1e-2;
  const results: ScaledGradientComparison[] = [];
  for (let direction = 0; direction < (options.directions ?? 2); direction += 1) {
    const d = randomTensor(x.shape, `${options.seed ?? 'direction'}:${direction}`);
    const { analytic, gradientNorm } = await analyticOf(() => tf.grad(f)(x), d);
    const plus = await scalarOf(() => f(tf.add(x, tf.mul(d, epsilon))));
    const minus = await scalarOf(() => f(tf.sub(x, tf.mul(d, epsilon))));
    d.dispose();
    results.push({ analytic, numeric: (plus - minus) / (2 * epsilon), gradientNorm });
  }
  return results;
}

/** The same check for a variable that `loss` reads: perturbs the variable itself, then restores it. */
export async function compareVariableGradient(
  loss: () => tf.Scalar,
  variable: tf.Variable,
  options: GradientCheckOptions = {},
): Promise<ScaledGradientComparison[]> {
  const epsilon = options.epsilon ?? 3e-3;
  const results: ScaledGradientComparison[] = [];
  const original = tf.clone(variable);
  try {
    for (let direction = 0; direction < (options.directions ?? 2); direction += 1) {
      const d = randomTensor(variable.shape, `${options.seed ?? 'variable-direction'}:${direction}`);
      const { analytic, gradientNorm } = await analyticOf(() => {
        const { value, grads } = tf.variableGrads(loss, [variable]);
        value.dispose();
        return grads[variable.name] as tf.Tensor;
      }, d);
      tf.tidy(() => variable.assign(tf.add(original, tf.mul(d, epsilon))));
      const plus = await scalarOf(loss);
      tf.tidy(() => variable.assign(tf.sub(original, tf.mul(d, epsilon))));
      const minus = await scalarOf(loss);
      tf.tidy(() => variable.assign(original));
      d.dispose();
      results.push({ analytic, numeric: (plus - minus) / (2 * epsilon), gradientNorm });
    }
  } finally {
    original.dispose();
  }
  return results;
}

/**
 * The worst error |analytic - numeric| / max(|analytic|, |numeric|, ||grad||): relative, except that a
 * derivative far smaller than the gradient (a direction nearly orthogonal to it) is measured against
 * ||grad||, since the central difference of a float32 sum carries an absolute rounding error.
 */
export function worstScaledError(comparisons: readonly ScaledGradientComparison[]): number {
  return Math.max(
    ...comparisons.map(
      ({ analytic, numeric, gradientNorm }) => Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), gradientNorm, 1e-6),
    ),
  );
}

/**
 * worstScaledError of a set of comparisons; throws (naming the values) when it is not below
 * `tolerance` or when the gradient is trivially small (||grad|| < 1e-2).
 */
export function checkGradients(what: string, comparisons: readonly ScaledGradientComparison[], tolerance: number): number {
  const largest = Math.max(...comparisons.map(({ gradientNorm }) => gradientNorm));
  const error = worstScaledError(comparisons);
  if (!(largest >= 1e-2) || !(error < tolerance)) {
    throw new Error(
      `${what}: gradient check failed (||grad|| up to ${largest}, worst scaled error ${error}, tolerance ${tolerance}): ` +
        JSON.stringify(comparisons),
    );
  }
  return error;
}
