import type { NoiseSchedule } from '@tfjs-diffusion/core';

/** The tanh approximation of Phi that the decoder uses (so the reference scores bins the same way). */
const approxCdf = (z: number): number => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));

/**
 * The expected variational bound (bits/dim, float64) of the exact Gaussian denoiser with fixed-small
 * variance, for data x0 ~ N(m, s^2), averaged over eps only (conditional on the given x0 values):
 * - with k = sqrt(aBar) s^2 / D and D = aBar s^2 + 1 - aBar, the error of the exact x0 is
 *   x0 - E[x0 | x_t] = (1 - k sqrt(aBar)) (x0 - m) - k sqrt(1 - aBar) eps, so
 *   E_eps[L_{t-1}] = c1^2 ((1 - k sqrt(aBar))^2 (x0 - m)^2 + k^2 (1 - aBar)) / (2 betaTilde_t);
 * - L_0 = -log of the bin mass of N(x0 - d, betaTilde_1) around x0 with d ~ N(mean, var) as above
 *   (c1 = 1 at t = 0), integrated numerically over d;
 * - L_T = 1/2 (-1 - log(1 - aBar_T) + (1 - aBar_T) + aBar_T x0^2).
 */
export function gaussianExactModelBound(schedule: NoiseSchedule, x0: ArrayLike<number>, dataMean: number, dataStd: number) {
  const count = schedule.timesteps.length;
  const errorMoments = (index: number, value: number) => {
    const alphaBar = schedule.alphaBars[index] as number;
    const gain = (Math.sqrt(alphaBar) * dataStd ** 2) / (alphaBar * dataStd ** 2 + 1 - alphaBar);
    return { mean: (1 - gain * Math.sqrt(alphaBar)) * (value - dataMean), variance: gain * gain * (1 - alphaBar) };
  };
  let kl = 0;
  let decoder = 0;
  let prior = 0;
  const alphaBarLast = schedule.alphaBars[count - 1] as number;
  const sigma0 = Math.exp((schedule.posteriorLogVariancesClipped[0] as number) / 2);
  const half = 1 / 255;
  for (let position = 0; position < x0.length; position += 1) {
    const value = x0[position] as number;
    for (let index = 1; index < count; index += 1) {
      const { mean, variance } = errorMoments(index, value);
      const c1 = schedule.posteriorMeanCoefficientsX0[index] as number;
      kl += (c1 * c1 * (mean * mean + variance)) / (2 * (schedule.posteriorVariances[index] as number));
    }
    const { mean, variance } = errorMoments(0, value);
    const points = 801;
    for (let point = 0; point < points; point += 1) {
      const z = -8 + (16 * point) / (points - 1);
      const weight = (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)) * (16 / (points - 1));
      const error = mean + z * Math.sqrt(variance);
      const lower = value < -0.999 ? 0 : approxCdf((error - half) / sigma0);
      const upper = value > 0.999 ? 1 : approxCdf((error + half) / sigma0);
      decoder -= weight * Math.log(Math.max(upper - lower, 1e-12));
    }
    prior += 0.5 * (-1 - Math.log(1 - alphaBarLast) + (1 - alphaBarLast) + alphaBarLast * value * value);
  }
  const toBits = (nats: number): number => nats / (x0.length * Math.LN2);
  return { kl: toBits(kl), decoder: toBits(decoder), prior: toBits(prior), total: toBits(kl + decoder + prior) };
}

/** The entropy in bits of N(m, s^2) discretized to the 256 bins of [-1, 1]: the true NLL of such data. */
export function discretizedGaussianEntropyBits(dataMean: number, dataStd: number): number {
  const normalCdf = (z: number): number => {
    // 1. Phi by the complementary error function (W. J. Cody's rational approximation is overkill here;
    //    Numerical Recipes erfc, relative error < 1.2e-7)
    const x = Math.abs(z) / Math.SQRT2;
    const t = 1 / (1 + 0.5 * x);
    const erfc =
      t *
      Math.exp(
        -x * x -
          1.26551223 +
          t *
            (1.00002368 +
              t *
                (0.37409196 +
                  t *
                    (0.09678418 + t * (-0.18628806 + t * (0.27886187 + t * (-1.13520398 + t * (1.48851973 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
    return z >= 0 ? 1 - erfc / 2 : erfc / 2;
  };
  let entropy = 0;
  for (let bin = 0; bin < 256; bin += 1) {
    const centre = -1 + (2 * bin) / 255;
    const lower = bin === 0 ? 0 : normalCdf((centre - 1 / 255 - dataMean) / dataStd);
    const upper = bin === 255 ? 1 : normalCdf((centre + 1 / 255 - dataMean) / dataStd);
    const p = upper - lower;
    if (p > 0) entropy -= p * Math.log2(p);
  }
  return entropy;
}
