import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, type SamplerStepEvent } from '@tfjs-diffusion/core';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDpmSolver2, solverSteps } from './dpm-solver-2.js';
import { columnStatistics, ddimForm, dpmSolver2Form, exactGaussianDenoiser, formMoments, type GaussianData } from './test-utils/exact-gaussian.js';

const DATA: GaussianData = { mean: [0.5, -0.3], std: 0.4 };
const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const model = exactGaussianDenoiser(full, DATA);
// 4.5 standard errors: a false failure about once in 150,000 comparisons
const STANDARD_ERRORS = 4.5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleDpmSolver2', () => {
  it('walks second-order steps through the schedule, then first-order ones to clean data', () => {
    const steps = solverSteps(respaceSchedule(full, '10'));
    expect(steps.map(({ index, middleIndex, targetIndex }) => [index, middleIndex, targetIndex])).toEqual([
      [9, 8, 7],
      [7, 6, 5],
      [5, 4, 3],
      [3, 2, 1],
      [1, null, 0],
      [0, null, -1],
    ]);
  });

  it.each([
    // [spacing, exact std of the output (float64 oracle), allowed relative std error against the data]
    // (first-order DDIM on the same schedules: 0.2703 and 0.3737)
    ['10', 0.31092, 0.23],
    ['ddim50', 0.40126, 0.005],
  ] as const)('maps x_T to its exact affine image on %s steps and samples N(mu, s^2)', async (spacing, exactStd, bias) => {
    const schedule = respaceSchedule(full, spacing);
    const shape = [4000, 2];
    const initialNoise = tf.tensor(createNoiseSource(1).normal(shape), shape);
    const samples = await sampleDpmSolver2({ model, schedule, shape, noise: createNoiseSource(2), initialNoise });

    // 1. element by element, the sample is the oracle's slope * x_T + offset
    const form = dpmSolver2Form(schedule, DATA);
    expect(formMoments(form).std).toBeCloseTo(exactStd, 4);
    const out = samples.dataSync();
    const start = initialNoise.dataSync();
    let worst = 0;
    out.forEach((value, position) => {
      worst = Math.max(worst, Math.abs(value - (form.slope * (start[position] as number) + (form.offsets[position % 2] as number))));
    });
    expect(worst).toBeLessThan(2e-5);

    // 2. the sample moments are the oracle's within sampling error
    const { mean, std } = columnStatistics(samples);
    mean.forEach((value, dim) =>
      expect(Math.abs(value - (form.offsets[dim] as number))).toBeLessThan((STANDARD_ERRORS * exactStd) / Math.sqrt(4000)),
    );
    std.forEach((value) => expect(Math.abs(value - exactStd)).toBeLessThan((STANDARD_ERRORS * exactStd) / Math.sqrt(2 * 4000)));

    // 3. the oracle is the data distribution up to the method's discretization error ...
    formMoments(form).mean.forEach((value, dim) => expect(Math.abs(value - (DATA.mean[dim] as number))).toBeLessThan(0.01));
    expect(Math.abs(exactStd - DATA.std) / DATA.std).toBeLessThan(bias);
    // 4. ... which is smaller than first-order DDIM's with as many network evaluations
    expect(Math.abs(formMoments(ddimForm(schedule, DATA)).std - DATA.std)).toBeGreaterThan(Math.abs(exactStd - DATA.std));
    tf.dispose([samples, initialNoise]);
  });

  it('gives the same samples for epsilon, x0 and v models of the same denoiser', async () => {
    const schedule = respaceSchedule(full, '10');
    const shape = [256, 2];
    const run = (prediction: 'epsilon' | 'x0' | 'v') =>
      sampleDpmSolver2({ model: exactGaussianDenoiser(full, DATA, prediction), schedule, shape, noise: createNoiseSource(3) });
    const [epsilon, x0, v] = await Promise.all([run('epsilon'), run('x0'), run('v')]);
    const largestDifference = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
    expect(largestDifference(x0, epsilon)).toBeLessThan(1e-4);
    expect(largestDifference(v, epsilon)).toBeLessThan(1e-4);
    tf.dispose([epsilon, x0, v]);
  });

  it('calls onStep once per step with live clones, feeds only original timesteps, and leaks no tensor', async () => {
    const schedule = respaceSchedule(full, 'ddim100');
    const fed: number[] = [];
    const spy = exactGaussianDenoiser(full, DATA, 'epsilon', (timesteps) => fed.push(timesteps[0] as number));
    const events: { stepNumber: number; totalSteps: number; timestep: number; shape: number[]; x0Shape: number[] }[] = [];
    const handed: tf.Tensor[] = [];
    const before = tf.memory().numTensors;
    const samples = await sampleDpmSolver2({
      model: spy,
      schedule,
      shape: [8, 2],
      noise: createNoiseSource(4),
      onStep: async (event: SamplerStepEvent) => {
        // the tensors are alive while the callback's promise is pending
        await new Promise((resolve) => setTimeout(resolve, 0));
        events.push({ ...event, shape: event.x.shape, x0Shape: event.predictedX0.shape });
        expect(Number.isFinite(event.x.dataSync()[0])).toBe(true);
        handed.push(event.x, event.predictedX0);
      },
    });
    // only the returned sample is left, and the event tensors were disposed after each callback
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(handed.every((tensor) => tensor.isDisposed)).toBe(true);
    const steps = solverSteps(schedule);
    expect(events.map((event) => event.stepNumber)).toEqual(steps.map((_, stepNumber) => stepNumber));
    expect(events.every((event) => event.totalSteps === steps.length)).toBe(true);
    expect(events.map((event) => event.timestep)).toEqual(steps.map((step) => schedule.timesteps[step.index]));
    expect(events.every((event) => event.shape.join() === '8,2' && event.x0Shape.join() === '8,2')).toBe(true);
    // one network evaluation per schedule step, each at an original (integer) timestep of the schedule
    expect([...fed].sort((a, b) => b - a)).toEqual([...schedule.timesteps].reverse());
    samples.dispose();
  });

  it('is reproducible by seed, keeps the caller x_T, and stops on abort without leaking', async () => {
    const schedule = respaceSchedule(full, '10');
    const shape = [16, 2];
    const first = await sampleDpmSolver2({ model, schedule, shape, noise: createNoiseSource(5) });
    const second = await sampleDpmSolver2({ model, schedule, shape, noise: createNoiseSource(5) });
    expect(Array.from(first.dataSync())).toEqual(Array.from(second.dataSync()));

    const initialNoise = tf.tensor(createNoiseSource(6).normal(shape), shape);
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const aborted = sampleDpmSolver2({
      model,
      schedule,
      shape,
      noise: createNoiseSource(5),
      initialNoise,
      onStep: ({ stepNumber }) => {
        if (stepNumber === 1) controller.abort();
      },
      signal: controller.signal,
    });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
    expect(initialNoise.isDisposed).toBe(false);
    tf.dispose([first, second, initialNoise]);
  });

  it('rejects a bad shape with a DiffusionError naming it', async () => {
    await expect(sampleDpmSolver2({ model, schedule: full, shape: [0, 2], noise: createNoiseSource(7) })).rejects.toMatchObject({
      name: 'DiffusionError',
      code: 'invalid-shape',
    });
  });
});
