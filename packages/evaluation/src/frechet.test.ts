import { createNoiseSource } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { frechetDistance, inceptionScore, matMul, meanAndCovariance, sqrtmSymmetric, symmetricEigen } from './frechet.js';

function randomSpd(n: number, seed: number): Float64Array {
  const noise = createNoiseSource(seed);
  const b = Float64Array.from(noise.normal([n * n]));
  const bt = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) for (let j = 0; j < n; j += 1) bt[i * n + j] = b[j * n + i] as number;
  const a = matMul(b, bt, n);
  for (let i = 0; i < n; i += 1) a[i * n + i] = (a[i * n + i] as number) + 0.1;
  return a;
}

const maxAbs = (a: Float64Array, b: Float64Array) => a.reduce((m, value, i) => Math.max(m, Math.abs(value - (b[i] as number))), 0);

describe('Fréchet distance', () => {
  it('Jacobi eigendecomposition reconstructs A = V diag(lambda) V^T with orthonormal V', () => {
    const n = 12;
    const a = randomSpd(n, 1);
    const { values, vectors } = symmetricEigen(a, n);
    const rebuilt = new Float64Array(n * n);
    for (let i = 0; i < n; i += 1)
      for (let j = 0; j < n; j += 1) for (let k = 0; k < n; k += 1) rebuilt[i * n + j]! += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
    expect(maxAbs(rebuilt, a)).toBeLessThan(1e-10);
    const vtv = new Float64Array(n * n);
    for (let i = 0; i < n; i += 1)
      for (let j = 0; j < n; j += 1) for (let k = 0; k < n; k += 1) vtv[i * n + j]! += vectors[k * n + i]! * vectors[k * n + j]!;
    const identity = Float64Array.from({ length: n * n }, (_, index) => (index % (n + 1) === 0 ? 1 : 0));
    expect(maxAbs(vtv, identity)).toBeLessThan(1e-12);
  });

  it('sqrtm of random SPD matrices: S symmetric and S S = A', () => {
    for (const [n, seed] of [
      [5, 2],
      [30, 3],
      [64, 4],
    ] as const) {
      const a = randomSpd(n, seed);
      const root = sqrtmSymmetric(a, n);
      for (let i = 0; i < n; i += 1) for (let j = 0; j < n; j += 1) expect(root[i * n + j]).toBe(root[j * n + i]);
      const scale = Math.max(...a.map(Math.abs));
      expect(maxAbs(matMul(root, root, n), a) / scale).toBeLessThan(1e-11);
    }
    // a known root: diag(4, 9) rotated by 30 degrees has the root diag(2, 3) rotated the same way
    const [c, s] = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)];
    const rotate = (d1: number, d2: number) =>
      Float64Array.from([c * c * d1 + s * s * d2, c * s * (d1 - d2), c * s * (d1 - d2), s * s * d1 + c * c * d2]);
    expect(maxAbs(sqrtmSymmetric(rotate(4, 9), 2), rotate(2, 3))).toBeLessThan(1e-14);
  });

  it('is 0 for identical Gaussians and matches the closed form for diagonal covariances', () => {
    const n = 16;
    const a = randomSpd(n, 5);
    const mean = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    expect(frechetDistance(mean, a, mean, a)).toBeLessThan(1e-9);
    const d1 = Float64Array.from({ length: n }, (_, i) => 0.5 + i);
    const d2 = Float64Array.from({ length: n }, (_, i) => 2 + 0.3 * i * i);
    const diag = (d: Float64Array) => Float64Array.from({ length: n * n }, (_, index) => (index % (n + 1) === 0 ? d[index / (n + 1)]! : 0));
    const mean2 = mean.map((value, i) => value + 0.1 * i);
    // |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2
    let expected = 0;
    for (let i = 0; i < n; i += 1) expected += (0.1 * i) ** 2 + (Math.sqrt(d1[i]!) - Math.sqrt(d2[i]!)) ** 2;
    expect(frechetDistance(mean, diag(d1), mean2, diag(d2))).toBeCloseTo(expected, 9);
    // symmetric in its arguments for general covariances
    const b = randomSpd(n, 6);
    expect(frechetDistance(mean, a, mean2, b)).toBeCloseTo(frechetDistance(mean2, b, mean, a), 8);
  });

  it('matches an independent float64 closed form for non-commuting 2x2 covariances', () => {
    // For 2x2 PSD A, B: tr sqrt(A^1/2 B A^1/2) = sqrt(tr(AB) + 2 sqrt(det A det B)) (Levinger's 2x2 root formula).
    const cases: [number[], number[], number[], number[]][] = [
      [
        [0, 0],
        [2, 0.5, 0.5, 1],
        [1, -1],
        [1, -0.3, -0.3, 3],
      ],
      [
        [3, 1],
        [4, 1.9, 1.9, 1],
        [-2, 0.5],
        [0.2, 0, 0, 5],
      ],
      [
        [0.1, 0.2],
        [1e-3, 0, 0, 1e3],
        [0.1, 0.2],
        [1e3, 1, 1, 1e-2],
      ],
    ];
    for (const [m1, s1, m2, s2] of cases) {
      const [a, b] = [Float64Array.from(s1), Float64Array.from(s2)];
      const ab = matMul(a, b, 2);
      const det = (m: Float64Array) => m[0]! * m[3]! - m[1]! * m[2]!;
      const traceRoot = Math.sqrt(ab[0]! + ab[3]! + 2 * Math.sqrt(det(a) * det(b)));
      const expected = (m1[0]! - m2[0]!) ** 2 + (m1[1]! - m2[1]!) ** 2 + a[0]! + a[3]! + b[0]! + b[3]! - 2 * traceRoot;
      const actual = frechetDistance(Float64Array.from(m1), a, Float64Array.from(m2), b);
      expect(Math.abs(actual - expected)).toBeLessThan(1e-9 * Math.max(1, expected));
    }
  });

  it('of samples drawn from two known Gaussians approaches the analytic distance', () => {
    // x ~ N(0, diag(1, 4)), y ~ N((1, 0), diag(4, 1)): FD = 1 + (1 - 2)^2 + (2 - 1)^2 = 3
    const noise = createNoiseSource('known-gaussians');
    const count = 20_000;
    const z = noise.normal([4 * count]);
    const x = new Float64Array(2 * count);
    const y = new Float64Array(2 * count);
    for (let i = 0; i < count; i += 1) {
      x[2 * i] = z[4 * i]!;
      x[2 * i + 1] = 2 * z[4 * i + 1]!;
      y[2 * i] = 1 + 2 * z[4 * i + 2]!;
      y[2 * i + 1] = z[4 * i + 3]!;
    }
    const first = meanAndCovariance(x, count, 2);
    const second = meanAndCovariance(y, count, 2);
    expect(frechetDistance(first.mean, first.covariance, second.mean, second.covariance)).toBeCloseTo(3, 1);
  });

  it('estimates mean and unbiased covariance like numpy.cov', () => {
    const { mean, covariance } = meanAndCovariance([1, 2, 3, 6, 5, 10], 3, 2);
    expect(Array.from(mean)).toEqual([3, 6]);
    expect(Array.from(covariance)).toEqual([4, 8, 8, 16]);
  });

  it('Inception score: 1 for identical predictions, K for confident uniformly spread ones', () => {
    expect(inceptionScore([0.2, 0.8, 0.2, 0.8], 2, 2)).toBeCloseTo(1, 12);
    const k = 4;
    const confident = Array.from({ length: k * k }, (_, index) => (index % (k + 1) === 0 ? 1 : 0));
    expect(inceptionScore(confident, k, k)).toBeCloseTo(k, 12);
  });
});
