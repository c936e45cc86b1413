import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { createNoiseSource } from '@tfjs-diffusion/core';

export interface GradientComparison {
  readonly analytic: number;
  readonly numeric: number;
}

/** Random N(0, scale^2) values of a shape, from a seeded host-side source. */
export function randomTensor(shape: readonly number[], seed: number | string, scale = 1): tf.Tensor {
  const values = createNoiseSource(seed).normal(shape);
  for (let position = 0; position < values.length; position += 1) values[position] = (values[position] as number) * scale;
  return tf.tensor(values, [...shape]);
}

/** Replaces every variable by random values (so zero-initialised layers take part in a gradient check). */
export function randomizeParameters(parameters: ReadonlyMap<string, tf.Variable>, seed: number | string, scale = 0.3): void {
  let index = 0;
  for (const variable of parameters.values()) {
    tf.tidy(() => variable.assign(randomTensor(variable.shape, `${seed}:${index}`, scale)));
    index += 1;
  }
}

function scalarOf(compute: () => tf.Scalar): number {
  return tf.tidy(() => compute().dataSync()[0] as number);
}

/**
 * Directional derivatives of f at x: <grad f(x), d> from tf.grad against the central difference
 * (f(x + eps d) - f(x - eps d)) / (2 eps), for `directions` random directions d.
 */
export function compareInputGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  options: { epsilon?: number; directions?: number; seed?: string } = {},
): GradientComparison[] {
  const epsilon = options.epsilon ?? 1e-2;
  const results: GradientComparison[] = [];
  for (let direction = 0; direction < (options.directions ?? 2); direction += 1) {
    const d = randomTensor(x.shape, `${options.seed ?? 'direction'}:${direction}`);
    const analytic = scalarOf(() => tf.sum(tf.mul(tf.grad(f)(x), d)));
    const plus = scalarOf(() => f(tf.add(x, tf.mul(d, epsilon))));
    const minus = scalarOf(() => f(tf.sub(x, tf.mul(d, epsilon))));
    d.dispose();
    results.push({ analytic, numeric: (plus - minus) / (2 * epsilon) });
  }
  return results;
}

/** The same check for a variable that `loss` reads: perturbs the variable itself. */
export function compareVariableGradient(
  loss: () => tf.Scalar,
  variable: tf.Variable,
  options: { epsilon?: number; directions?: number; seed?: string } = {},
): GradientComparison[] {
  const epsilon = options.epsilon ?? 1e-2;
  const results: GradientComparison[] = [];
  const original = tf.clone(variable);
  for (let direction = 0; direction < (options.directions ?? 2); direction += 1) {
    const d = randomTensor(variable.shape, `${options.seed ?? 'variable-direction'}:${direction}`);
    const analytic = scalarOf(() => {
      const { grads } = tf.variableGrads(loss, [variable]);
      return tf.sum(tf.mul(grads[variable.name] as tf.Tensor, d));
    });
    tf.tidy(() => variable.assign(tf.add(original, tf.mul(d, epsilon))));
    const plus = scalarOf(loss);
    tf.tidy(() => variable.assign(tf.sub(original, tf.mul(d, epsilon))));
    const minus = scalarOf(loss);
    tf.tidy(() => variable.assign(original));
    d.dispose();
    results.push({ analytic, numeric: (plus - minus) / (2 * epsilon) });
  }
  original.dispose();
  return results;
}

/** The largest relative error |analytic - numeric| / max(|analytic|, |numeric|, floor). */
export function worstRelativeError(comparisons: readonly GradientComparison[], floor = 1e-3): number {
  return Math.max(
    ...comparisons.map(({ analytic, numeric }) => Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), floor)),
  );
}

/** A fixed random projection of an output to a scalar: sum(output * w), w seeded. */
export function projectToScalar(output: tf.Tensor, seed: string): tf.Scalar {
  return tf.sum(tf.mul(output, randomTensor(output.shape, seed)));
}

/** Asserts that the comparisons agree within `tolerance` and are not all (trivially) near zero. */
export function gradientsAgree(comparisons: readonly GradientComparison[], tolerance = 2e-2): boolean {
  const largest = Math.max(...comparisons.map(({ analytic }) => Math.abs(analytic)));
  const error = worstRelativeError(comparisons);
  if (largest < 1e-2 || error >= tolerance) {
    throw new Error(`gradient check failed: largest |analytic| ${largest}, worst relative error ${error}, ${JSON.stringify(comparisons)}`);
  }
  return true;
}
