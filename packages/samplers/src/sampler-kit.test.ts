import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, samplingSteps, type Sampler, type SamplerStepEvent } from '@tfjs-diffusion/core';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
// only the package's public entry, as a user's package would import it
import { evaluateModel, runSamplingLoop, sampleDdim } from './index.js';
import { gaussianModel, maxAbsDifference } from './test-utils/exact-models.js';

const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const schedule = respaceSchedule(full, 'linspace:10');
const data = { mean: [0.5, -0.3], std: 0.4 };

/**
 * A user's sampler written with the kit: DDIM (eta = 0) with a second-order x0 extrapolation,
 * x0~ = (1 + r/2) x0_i - (r/2) x0_{i+1} (the multistep idea of DPM-Solver++(2M), Lu et al. 2022, in
 * VP form with a fixed ratio r); `order: 1` is plain DDIM. Its update rule is all it has to write.
 */
function userSampler(order: 1 | 2, ratio = 0.5): Sampler {
  return (options) =>
    runSamplingLoop(options, {
      steps: samplingSteps(options.schedule),
      step: (x, { index, timestep }, previousX0) => {
        const alphaBar = options.schedule.alphaBars[index] as number;
        const previous = options.schedule.alphaBarsPrevious[index] as number;
        // guidance (epsilon shift), clipping and every prediction kind come from evaluateModel
        const { x0, epsilon } = evaluateModel(options, x, timestep, alphaBar, 'epsilon-shift');
        const estimate = order === 2 && previousX0 ? tf.sub(tf.mul(1 + ratio / 2, x0), tf.mul(ratio / 2, previousX0)) : x0;
        // x_{t-1} = sqrt(aBar_{t-1}) x0~ + sqrt(1 - aBar_{t-1}) eps', eps' consistent with x0~
        const epsilonEstimate = tf.div(tf.sub(x, tf.mul(Math.sqrt(alphaBar), estimate)), Math.sqrt(1 - alphaBar));
        const next = tf.add(tf.mul(Math.sqrt(previous), estimate), tf.mul(Math.sqrt(1 - previous), order === 2 ? epsilonEstimate : epsilon));
        return { x: next, predictedX0: x0 };
      },
    });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the sampler kit (runSamplingLoop + evaluateModel)', () => {
  const shape = [64, 2];

  it('a first-order user sampler is sampleDdim, with and without classifier guidance', async () => {
    const initialNoise = tf.tensor(createNoiseSource(1).normal(shape), shape);
    for (const guidanceGradient of [undefined, [0.8, -0.5]]) {
      const model = gaussianModel(full, data, guidanceGradient ? { guidanceGradient } : {});
      const mine = await userSampler(1)({ model, schedule, shape, noise: createNoiseSource(2), initialNoise });
      const reference = await sampleDdim({ model, schedule, shape, noise: createNoiseSource(2), initialNoise });
      expect(maxAbsDifference(mine, reference)).toBeLessThan(1e-6);
      tf.dispose([mine, reference]);
    }
    // the guidance gradient moves the samples along g: x0^ = x0 + (1 - aBar)/sqrt(aBar) g, summed over the steps
    const plain = await userSampler(2)({ model: gaussianModel(full, data), schedule, shape, noise: createNoiseSource(2), initialNoise });
    const guided = await userSampler(2)({
      model: gaussianModel(full, data, { guidanceGradient: [0.8, -0.5] }),
      schedule,
      shape,
      noise: createNoiseSource(2),
      initialNoise,
    });
    const shift = tf.tidy(() => tf.mean(tf.sub(guided, plain), 0).arraySync() as number[]);
    expect(shift[0]).toBeGreaterThan(0.05);
    expect(shift[1]).toBeLessThan(-0.03);
    tf.dispose([plain, guided, initialNoise]);
  });

  it('clips the predicted x0 that previews show, calls onStep once per step and leaks nothing', async () => {
    // data far outside [-1, 1]: unclipped x0 predictions are near +-2
    const model = gaussianModel(full, { mean: [2, -2], std: 0.1 }, { guidanceGradient: [3, -3] });
    const events: { stepNumber: number; totalSteps: number; timestep: number; largest: number }[] = [];
    const handed: tf.Tensor[] = [];
    const before = tf.memory().numTensors;
    const result = await userSampler(2)({
      model,
      schedule,
      shape,
      noise: createNoiseSource(3),
      clipDenoised: true,
      onStep: async (event: SamplerStepEvent) => {
        await new Promise((resolve) => setTimeout(resolve, 0));
        events.push({ ...event, largest: tf.tidy(() => tf.max(tf.abs(event.predictedX0)).dataSync()[0] as number) });
        handed.push(event.x, event.predictedX0);
      },
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(handed.every((tensor) => tensor.isDisposed)).toBe(true);
    expect(events.map((event) => event.stepNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.every((event) => event.totalSteps === 10)).toBe(true);
    expect(events.map((event) => event.timestep)).toEqual([...schedule.timesteps].reverse());
    expect(Math.max(...events.map((event) => event.largest))).toBeCloseTo(1, 6);
    expect(tf.tidy(() => tf.max(tf.abs(result)).dataSync()[0] as number)).toBeLessThanOrEqual(1 + 1e-5);
    result.dispose();
  });

  it('stops on abort with an AbortError, keeps the caller x_T and leaks nothing, and checks the options', async () => {
    const initialNoise = tf.tensor(createNoiseSource(4).normal(shape), shape);
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const aborted = userSampler(2)({
      model: gaussianModel(full, data),
      schedule,
      shape,
      noise: createNoiseSource(5),
      initialNoise,
      signal: controller.signal,
      onStep: ({ stepNumber }) => {
        if (stepNumber === 2) controller.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError', message: 'sampling was aborted before step 3 of 10' });
    expect(tf.memory().numTensors).toBe(before);
    expect(initialNoise.isDisposed).toBe(false);
    initialNoise.dispose();
    await expect(userSampler(1)({ model: gaussianModel(full, data), schedule, shape: [0, 2], noise: createNoiseSource(6) })).rejects.toMatchObject({
      name: 'DiffusionError',
      code: 'invalid-shape',
    });
  });
});
