import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, DiffusionError, type DiffusionModel, type SamplerOptions, type SamplerStepEvent } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleDdim, sampleDdpm, sampleDpmSolverPlusPlus2M, sampleEuler, sampleEulerAncestral, sampleHeun } from './index.js';
import { gaussianModel, maxAbsDifference } from './test-utils/exact-models.js';
import { GAUSSIAN } from './test-utils/expectations.js';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';

const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const schedule = respaceSchedule(full, 'ddim8');
const descending = [...schedule.timesteps].reverse();
const shape = [16, 2];

type AnySampler = (options: SamplerOptions) => Promise<tf.Tensor>;
const samplers: [string, AnySampler][] = [
  ['sampleDdpm', sampleDdpm],
  ['sampleDdim (eta 0)', sampleDdim],
  ['sampleDdim (eta 1)', (options) => sampleDdim({ ...options, eta: 1 })],
  ['sampleEuler', sampleEuler],
  ['sampleEulerAncestral', sampleEulerAncestral],
  ['sampleHeun', sampleHeun],
  ['sampleDpmSolverPlusPlus2M', sampleDpmSolverPlusPlus2M],
  ['sampleEuler (karras)', (options) => sampleEuler({ ...options, sigmas: 'karras', trainingSchedule: full })],
  ['sampleHeun (karras)', (options) => sampleHeun({ ...options, sigmas: 'karras', trainingSchedule: full })],
  ['sampleDpmSolverPlusPlus2M (karras)', (options) => sampleDpmSolverPlusPlus2M({ ...options, sigmas: 'karras', trainingSchedule: full })],
];
const karras = (name: string): boolean => name.includes('karras');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(samplers)('%s', (name, sampler) => {
  const model = gaussianModel(full, GAUSSIAN);
  const base = (seed = 50): SamplerOptions => ({ model, schedule, shape, noise: createNoiseSource(seed) });

  it('calls onStep once per step, noisiest first, and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const events: Omit<SamplerStepEvent, 'x' | 'predictedX0'>[] = [];
    const liveTensors: number[] = [];
    let lastX: Float32Array | null = null;
    const result = await sampler({
      ...base(),
      onStep: async ({ x, predictedX0, ...event }) => {
        expect(x.shape).toEqual(shape);
        expect(predictedX0.shape).toEqual(shape);
        events.push(event);
        liveTensors.push(tf.memory().numTensors);
        lastX = x.dataSync() as Float32Array;
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
    });
    expect(events.map((event) => event.stepNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(events.every((event) => event.totalSteps === 8)).toBe(true);
    const timesteps = events.map((event) => event.timestep);
    if (karras(name)) {
      expect([timesteps[0], timesteps[7]]).toEqual([875, 0]);
      timesteps.slice(1).forEach((timestep, position) => expect(timestep).toBeLessThan(timesteps[position] as number));
    } else {
      expect(timesteps).toEqual(descending);
    }
    // no tensor piles up from step to step (the last step may hold one fewer), and the last event's x is the result
    expect(new Set(liveTensors.slice(0, -1)).size).toBe(1);
    expect(liveTensors[7]).toBeLessThanOrEqual(liveTensors[0] as number);
    expect(Array.from(result.dataSync())).toEqual(Array.from(lastX ?? []));
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('feeds the network the original timesteps (float32, one per sample) and the condition', async () => {
    const seen: { timesteps: number[]; labels: number[] | null }[] = [];
    const classLabels = tf.tensor1d(new Array<number>(16).fill(3), 'int32');
    const watching: DiffusionModel = {
      ...model,
      predict: (input) => {
        expect(input.timesteps.dtype).toBe('float32');
        seen.push({
          timesteps: Array.from(input.timesteps.dataSync()),
          labels: input.condition?.classLabels ? Array.from(input.condition.classLabels.dataSync()) : null,
        });
        return model.predict(input);
      },
    };
    const result = await sampler({ ...base(), model: watching, condition: { classLabels } });
    for (const call of seen) {
      expect(call.timesteps).toHaveLength(16);
      expect(new Set(call.timesteps).size).toBe(1);
      if (!karras(name)) expect(schedule.timesteps).toContain(call.timesteps[0]);
      expect(call.labels).toEqual(new Array<number>(16).fill(3));
    }
    tf.dispose([result, classLabels]);
  });

  it('gives the same samples for the same seed and different ones for another', async () => {
    const first = await sampler(base(51));
    const again = await sampler(base(51));
    const other = await sampler(base(52));
    expect(maxAbsDifference(first, again)).toBe(0);
    expect(maxAbsDifference(first, other)).toBeGreaterThan(0.1);
    tf.dispose([first, again, other]);
  });

  it('stops between steps with an AbortError, leaving no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const steps: number[] = [];
    const run = sampler({
      ...base(),
      signal: controller.signal,
      onStep: ({ stepNumber }) => {
        steps.push(stepNumber);
        if (stepNumber === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', message: expect.stringMatching(/before step 3 of 8/) });
    expect(steps).toEqual([0, 1, 2]);
    expect(tf.memory().numTensors).toBe(before);

    let calls = 0;
    const counting: DiffusionModel = { ...model, predict: (input) => ((calls += 1), model.predict(input)) };
    await expect(sampler({ ...base(), model: counting, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('survives an onStep that disposes the event tensors, and cleans up after one that throws', async () => {
    const before = tf.memory().numTensors;
    const reference = await sampler(base());
    const disposing = await sampler({ ...base(), onStep: ({ x, predictedX0 }) => tf.dispose([x, predictedX0]) });
    expect(maxAbsDifference(reference, disposing)).toBe(0);
    tf.dispose([reference, disposing]);
    const failing = sampler({
      ...base(),
      onStep: ({ stepNumber }) => {
        if (stepNumber === 4) throw new Error('callback failed');
      },
    });
    await expect(failing).rejects.toThrow('callback failed');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps predicted x0 and the sample in [-1, 1] with clipDenoised', async () => {
    const outside = gaussianModel(full, { mean: [3, -3], std: 0.1 });
    let worst = 0;
    const result = await sampler({
      ...base(),
      model: outside,
      clipDenoised: true,
      onStep: ({ predictedX0 }) => {
        worst = Math.max(
          worst,
          tf.tidy(() => tf.max(tf.abs(predictedX0)).dataSync()[0] as number),
        );
      },
    });
    expect(worst).toBeLessThanOrEqual(1);
    expect(tf.tidy(() => tf.max(tf.abs(result)).dataSync()[0] as number)).toBeLessThanOrEqual(1);
    const columns = result.dataSync();
    expect(columns[0]).toBeCloseTo(1, 5);
    expect(columns[1]).toBeCloseTo(-1, 5);
    result.dispose();
  });

  it('rejects wrong shapes with a DiffusionError naming the argument, leaving no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const wrongNoise = tf.zeros([16, 3]);
    const wrongLabels = tf.zeros([15], 'int32') as tf.Tensor1D;
    const cases: [Partial<SamplerOptions>, RegExp][] = [
      [{ initialNoise: wrongNoise }, /initialNoise must have shape \[16, 2\], got \[16, 3\]/],
      [{ condition: { classLabels: wrongLabels } }, /condition\.classLabels must have shape \[16\], got \[15\]/],
      [{ shape: [0, 2] }, /shape must be \[batch, \.\.\.dataShape\] of positive integers/],
      [{ shape: [] }, /shape must be/],
      [{ model: { ...model, predict: () => ({ prediction: tf.zeros([16, 1]) }) } }, /model prediction \(epsilon\) must have shape/],
    ];
    for (const [override, message] of cases) {
      const run = sampler({ ...base(), ...override });
      await expect(run).rejects.toThrow(DiffusionError);
      await expect(run).rejects.toMatchObject({ code: 'invalid-shape', message: expect.stringMatching(message) });
    }
    tf.dispose([wrongNoise, wrongLabels]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
