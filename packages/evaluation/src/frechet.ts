import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * Eigendecomposition of a symmetric matrix by the cyclic Jacobi method (Jacobi 1846; Golub & Van
 * Loan, Matrix Computations, section 8.5), in float64. `matrix` is n x n row-major and is not
 * changed. Returns the eigenvalues and the eigenvectors as the COLUMNS of `vectors` (row-major).
 */
export function symmetricEigen(matrix: Float64Array, n: number, tolerance = 1e-13, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) throw new DiffusionError('invalid-shape', `symmetricEigen: expected ${n * n} values, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) v[i * n + i] = 1;
  let scale = 0;
  for (let index = 0; index < n * n; index += 1) scale += (a[index] as number) ** 2;
  scale = Math.sqrt(scale);
  for (let sweep = 0; sweep < maxSweeps; sweep += 1) {
    // 1. stop when the off-diagonal mass is negligible against the whole matrix
    let off = 0;
    for (let p = 0; p < n; p += 1) for (let q = p + 1; q < n; q += 1) off += (a[p * n + q] as number) ** 2;
    if (Math.sqrt(2 * off) <= tolerance * Math.max(scale, Number.MIN_VALUE)) break;
    for (let p = 0; p < n - 1; p += 1) {
      for (let q = p + 1; q < n; q += 1) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        // 2. the rotation that zeroes a_pq: theta = (a_qq - a_pp) / (2 a_pq), t = sign(theta) / (|theta| + sqrt(theta^2 + 1))
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // 3. A <- J^T A J on rows and columns p, q
        for (let k = 0; k < n; k += 1) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k += 1) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        // 4. V <- V J accumulates the eigenvectors
        for (let k = 0; k < n; k += 1) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = Float64Array.from({ length: n }, (_, i) => a[i * n + i] as number);
  return { values, vectors: v };
}

/**
 * The symmetric positive semi-definite square root V diag(sqrt(max(lambda, 0))) V^T of a symmetric
 * matrix (eigenvalues below 0, rounding noise of a PSD matrix, are clamped to 0).
 */
export function sqrtmSymmetric(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(symmetrize(matrix, n), n);
  const roots = values.map((value) => Math.sqrt(Math.max(0, value)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    for (let j = i; j < n; j += 1) {
      let sum = 0;
      for (let k = 0; k < n; k += 1) sum += (vectors[i * n + k] as number) * (roots[k] as number) * (vectors[j * n + k] as number);
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** (A + A^T) / 2. */
export function symmetrize(matrix: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) for (let j = 0; j < n; j += 1) out[i * n + j] = ((matrix[i * n + j] as number) + (matrix[j * n + i] as number)) / 2;
  return out;
}

/** Row-major n x n product A B. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    for (let k = 0; k < n; k += 1) {
      const aik = a[i * n + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < n; j += 1) out[i * n + j] = (out[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  }
  return out;
}

/** Mean and unbiased covariance (divided by count - 1, as numpy.cov) of `count` rows of `dimension` features. */
export function meanAndCovariance(features: ArrayLike<number>, count: number, dimension: number): { mean: Float64Array; covariance: Float64Array } {
  if (count < 2) throw new DiffusionError('invalid-argument', `meanAndCovariance: need at least 2 samples, got ${count}`);
  if (features.length !== count * dimension)
    throw new DiffusionError('invalid-shape', `meanAndCovariance: expected ${count * dimension} values, got ${features.length}`);
  const mean = new Float64Array(dimension);
  for (let row = 0; row < count; row += 1)
    for (let d = 0; d < dimension; d += 1) mean[d] = (mean[d] as number) + (features[row * dimension + d] as number) / count;
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (let row = 0; row < count; row += 1) {
    for (let d = 0; d < dimension; d += 1) centred[d] = (features[row * dimension + d] as number) - (mean[d] as number);
    for (let i = 0; i < dimension; i += 1) {
      const ci = centred[i] as number;
      for (let j = i; j < dimension; j += 1) covariance[i * dimension + j] = (covariance[i * dimension + j] as number) + ci * (centred[j] as number);
    }
  }
  for (let i = 0; i < dimension; i += 1) {
    for (let j = i; j < dimension; j += 1) {
      const value = (covariance[i * dimension + j] as number) / (count - 1);
      covariance[i * dimension + j] = value;
      covariance[j * dimension + i] = value;
    }
  }
  return { mean, covariance };
}

/**
 * The Fréchet distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982; FID of Heusel et
 * al. 2017): |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2). The inner matrix is
 * symmetric PSD, so both roots are symmetric eigendecomposition roots (no complex parts to drop).
 */
export function frechetDistance(mean1: Float64Array, covariance1: Float64Array, mean2: Float64Array, covariance2: Float64Array): number {
  const n = mean1.length;
  if (mean2.length !== n || covariance1.length !== n * n || covariance2.length !== n * n) {
    throw new DiffusionError(
      'invalid-shape',
      `frechetDistance: means of ${n} and ${mean2.length} values, covariances of ${covariance1.length} and ${covariance2.length}`,
    );
  }
  let meanTerm = 0;
  for (let i = 0; i < n; i += 1) meanTerm += ((mean1[i] as number) - (mean2[i] as number)) ** 2;
  const root1 = sqrtmSymmetric(covariance1, n);
  const inner = symmetrize(matMul(matMul(root1, covariance2, n), root1, n), n);
  const { values } = symmetricEigen(inner, n);
  let traceRoot = 0;
  for (const value of values) traceRoot += Math.sqrt(Math.max(0, value));
  let trace1 = 0;
  let trace2 = 0;
  for (let i = 0; i < n; i += 1) {
    trace1 += covariance1[i * n + i] as number;
    trace2 += covariance2[i * n + i] as number;
  }
  return Math.max(0, meanTerm + trace1 + trace2 - 2 * traceRoot);
}

/** The Inception Score exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016) of rows of class probabilities. */
export function inceptionScore(probabilities: ArrayLike<number>, count: number, numClasses: number): number {
  const marginal = new Float64Array(numClasses);
  for (let row = 0; row < count; row += 1)
    for (let k = 0; k < numClasses; k += 1) marginal[k] = (marginal[k] as number) + (probabilities[row * numClasses + k] as number) / count;
  let kl = 0;
  for (let row = 0; row < count; row += 1) {
    for (let k = 0; k < numClasses; k += 1) {
      const p = probabilities[row * numClasses + k] as number;
      if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[k] as number));
    }
  }
  return Math.exp(kl / count);
}
