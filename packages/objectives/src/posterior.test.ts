import * as tf from '@tensorflow/tfjs-core';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { posteriorMeanAndVariance } from './posterior.js';
import { reverseMeanAndLogVariance } from './reverse-process.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });

describe('posteriorMeanAndVariance', () => {
  it('gives the DDPM posterior: betaTilde_1 = 5.4532e-5 and the Gaussian conditional mean', () => {
    const index = 1;
    const { mean, variance, logVarianceClipped } = tf.tidy(() => {
      const result = posteriorMeanAndVariance(schedule, tf.tensor([[0.5]]), tf.tensor([[0.3]]), [index]);
      return {
        mean: result.mean.dataSync()[0] as number,
        variance: result.variance.dataSync()[0] as number,
        logVarianceClipped: result.logVarianceClipped.dataSync()[0] as number,
      };
    });
    expect(variance).toBeCloseTo(5.4532e-5, 8);
    expect(logVarianceClipped).toBeCloseTo(-9.8167, 3);
    // q(x_{t-1} | x_t, x0) by Bayes: prior N(sqrt(aBar_{t-1}) x0, 1 - aBar_{t-1}), likelihood N(x_t; sqrt(alpha_t) x_{t-1}, beta_t)
    const alphaBarPrevious = schedule.alphaBarsPrevious[index] as number;
    const alpha = schedule.alphas[index] as number;
    const beta = schedule.betas[index] as number;
    const precision = 1 / (1 - alphaBarPrevious) + alpha / beta;
    const expectedMean = ((Math.sqrt(alphaBarPrevious) * 0.5) / (1 - alphaBarPrevious) + (Math.sqrt(alpha) * 0.3) / beta) / precision;
    expect(mean).toBeCloseTo(expectedMean, 6);
    expect(variance).toBeCloseTo(1 / precision, 9);
  });
});

describe('reverseMeanAndLogVariance', () => {
  it('recovers x0 from the true noise, clips it when asked, and uses the posterior mean', () => {
    const indices = [0, 300, 999];
    const result = tf.tidy(() => {
      const x0 = tf.tensor([[0.9], [-0.4], [1.0]]);
      const epsilon = tf.tensor([[1.5], [-0.7], [2.0]]);
      const alphaBar = tf.tensor(
        indices.map((index) => schedule.alphaBars[index] as number),
        [3, 1],
      );
      const xt = tf.add(tf.mul(tf.sqrt(alphaBar), x0), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), epsilon));
      const model = { prediction: 'epsilon', variance: 'fixed-small' } as const;
      const open = reverseMeanAndLogVariance({ model, schedule, xt, indices, output: { prediction: epsilon } });
      const clipped = reverseMeanAndLogVariance({ model, schedule, xt, indices, output: { prediction: tf.mul(epsilon, 0) }, clipDenoised: true });
      const posterior = posteriorMeanAndVariance(schedule, x0, xt, indices);
      return {
        predictedX0: Array.from(open.predictedX0.dataSync()),
        mean: Array.from(open.mean.dataSync()),
        posteriorMean: Array.from(posterior.mean.dataSync()),
        clipped: Array.from(clipped.predictedX0.dataSync()),
      };
    });
    [0.9, -0.4, 1.0].forEach((value, sample) => expect(result.predictedX0[sample]).toBeCloseTo(value, 2));
    result.mean.forEach((value, sample) => expect(value).toBeCloseTo(result.posteriorMean[sample] as number, 3));
    expect(Math.max(...result.clipped.map(Math.abs))).toBeLessThanOrEqual(1);
  });
});
