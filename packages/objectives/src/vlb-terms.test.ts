import * as tf from '@tensorflow/tfjs-core';
import { type NoiseSchedule, createNoiseSource } from '@tfjs-diffusion/core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardDiffuse } from './forward-diffuse.js';
import { createGaussianOracleModel } from './test-utils/gaussian-oracle-model.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';
import { vlbTerms } from './vlb-terms.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });
const dataMean = 0.2;
const dataStd = 0.3;

/** Mean over the batch of vlbTerms' klBits at schedule index `index` for Gaussian data and the oracle. */
function monteCarloKlBits(schedule: NoiseSchedule, index: number, variance: 'fixed-small' | 'fixed-large'): number {
  const noise = createNoiseSource(`kl-${index}-${variance}`);
  const shape = [500, 200];
  const model = createGaussianOracleModel({ schedule, dataMean, dataStd, prediction: 'epsilon', variance });
  return tf.tidy(() => {
    const x0 = tf.add(dataMean, tf.mul(dataStd, tf.tensor(noise.normal(shape), shape)));
    const indices = new Int32Array(shape[0] as number).fill(index);
    const xt = forwardDiffuse(schedule, x0, indices, tf.tensor(noise.normal(shape), shape));
    const output = model.predict({ x: xt, timesteps: tf.fill([shape[0] as number], schedule.timesteps[index] as number) as tf.Tensor1D });
    return tf.mean(vlbTerms({ model, schedule, x0, xt, indices, output }).klBits).dataSync()[0] as number;
  });
}

describe('vlbTerms', () => {
  /*
   * Closed form. With x0 ~ N(m, s^2) and x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps, the posterior of x0 given
   * x_t is Gaussian with variance V = s^2 (1 - aBar) / (aBar s^2 + 1 - aBar). The oracle's x0 is E[x0 | x_t],
   * so the means of q (c1 x0 + c2 x_t) and p (c1 E[x0 | x_t] + c2 x_t) differ by c1 (x0 - E[x0 | x_t]), whose
   * expected square is c1^2 V. q has variance betaTilde; p has variance sigma^2, so per dimension
   *   E[KL] = 1/2 (log(sigma^2 / betaTilde) + betaTilde / sigma^2 - 1 + c1^2 V / sigma^2)  nats,
   * which is c1^2 V / (2 betaTilde) for fixed-small (sigma^2 = betaTilde).
   */
  const expectedKlBits = (index: number, sigmaSquared: number): number => {
    const alphaBar = schedule.alphaBars[index] as number;
    const posteriorX0Variance = (dataStd ** 2 * (1 - alphaBar)) / (alphaBar * dataStd ** 2 + 1 - alphaBar);
    const betaTilde = schedule.posteriorVariances[index] as number;
    const c1 = schedule.posteriorMeanCoefficientsX0[index] as number;
    const nats = 0.5 * (Math.log(sigmaSquared / betaTilde) + betaTilde / sigmaSquared - 1 + (c1 * c1 * posteriorX0Variance) / sigmaSquared);
    return nats / Math.LN2;
  };

  it.each([10, 100, 500])('matches the closed-form expected KL term at index %i with fixed-small variance (3 %)', (index) => {
    const expected = expectedKlBits(index, schedule.posteriorVariances[index] as number);
    // 1e5 squared Gaussian errors: relative standard error sqrt(2 / 1e5) = 0.45 %, so 3 % is > 6 sigma
    expect(Math.abs(monteCarloKlBits(schedule, index, 'fixed-small') / expected - 1)).toBeLessThan(0.03);
  });

  it('matches the closed-form expected KL term with fixed-large variance (3 %)', () => {
    const index = 50;
    const expected = expectedKlBits(index, schedule.betas[index] as number);
    expect(Math.abs(monteCarloKlBits(schedule, index, 'fixed-large') / expected - 1)).toBeLessThan(0.03);
  });

  it('gives log beta at v = 1 and the clipped log betaTilde at v = -1 for learned-range variance', () => {
    const indices = Int32Array.from([0, 1, 499, 999]);
    const shape = [4, 3];
    for (const [value, expected] of [
      [1, (index: number) => Math.log(schedule.betas[index] as number)],
      [-1, (index: number) => schedule.posteriorLogVariancesClipped[index] as number],
    ] as const) {
      const logVariance = tf.tidy(() => {
        const x0 = tf.zeros(shape);
        const output = { prediction: tf.zeros(shape), varianceValues: tf.fill(shape, value) };
        const model = { prediction: 'epsilon', variance: 'learned-range' } as const;
        return vlbTerms({ model, schedule, x0, xt: x0, indices, output }).logVariance.dataSync();
      });
      indices.forEach((index, sample) => expect(logVariance[sample * 3]).toBeCloseTo(expected(index), 4));
    }
    // reference value: clipped log betaTilde at index 0 is log betaTilde_1 = -9.8167 on linear T = 1000
    expect(schedule.posteriorLogVariancesClipped[0]).toBeCloseTo(-9.8167, 3);
  });

  it('uses the decoder at index 0 and the KL elsewhere, and its decoder is a normalised likelihood', () => {
    const batch = 3;
    const indices = Int32Array.from([0, 5, 0]);
    const result = tf.tidy(() => {
      const x0 = tf.tensor([
        [-1, 0.5],
        [0.1, 0.2],
        [1, -0.3],
      ]);
      const xt = tf.tensor([
        [-0.9, 0.45],
        [0.2, 0.1],
        [0.95, -0.2],
      ]);
      const model = { prediction: 'x0', variance: 'fixed-small' } as const;
      const terms = vlbTerms({ model, schedule, x0, xt, indices, output: { prediction: x0 } });
      return { bits: terms.bits.dataSync(), kl: terms.klBits.dataSync(), decoder: terms.decoderBits.dataSync() };
    });
    for (let sample = 0; sample < batch; sample += 1) {
      const expected = indices[sample] === 0 ? result.decoder[sample] : result.kl[sample];
      expect(result.bits[sample]).toBe(expected);
    }
    // a perfect x0 gives KL 0 (same mean, same variance) and a small but positive decoder cost
    expect(Math.abs(result.kl[1] as number)).toBeLessThan(1e-5);
    expect(result.decoder[0]).toBeGreaterThan(0);
  });

  it('leaks no tensors and rejects indices outside the schedule', () => {
    const x0 = tf.zeros([2, 4]);
    const before = tf.memory().numTensors;
    const model = { prediction: 'epsilon', variance: 'fixed-large' } as const;
    const output = { prediction: tf.zeros([2, 4]) };
    const result = vlbTerms({ model, schedule, x0, xt: x0, indices: [3, 0], output });
    tf.dispose([result.bits, result.klBits, result.decoderBits, result.predictedX0, result.mean, result.logVariance, output.prediction]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => vlbTerms({ model, schedule, x0, xt: x0, indices: [1000, 0], output: { prediction: x0 } })).toThrow(/index 1000 is outside 0..999/);
    expect(() => vlbTerms({ model, schedule, x0, xt: x0, indices: [1], output: { prediction: x0 } })).toThrow(/1 indices for a batch of 2/);
    x0.dispose();
  });
});
