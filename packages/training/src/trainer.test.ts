import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, type NoiseSchedule } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTinyModel, tinySimpleObjective } from './test-utils/tiny-model.js';
import { Trainer, type BatchSource } from './trainer.js';

function linearSchedule(T: number): NoiseSchedule {
  const betas = Float64Array.from({ length: T }, (_, i) => 1e-4 * (1000 / T) + ((0.02 - 1e-4) * (1000 / T) * i) / (T - 1));
  const alphas = betas.map((beta) => 1 - beta);
  const alphaBars = new Float64Array(T);
  alphas.reduce((product, alpha, i) => (alphaBars[i] = product * alpha), 1);
  const alphaBarsPrevious = Float64Array.from({ length: T }, (_, i) => (i === 0 ? 1 : (alphaBars[i - 1] as number)));
  const posteriorVariances = betas.map((beta, i) => (beta * (1 - (alphaBarsPrevious[i] as number))) / (1 - (alphaBars[i] as number)));
  return {
    kind: 'linear',
    trainingTimesteps: T,
    respacing: null,
    timesteps: Array.from({ length: T }, (_, i) => i),
    betas,
    alphas,
    alphaBars,
    alphaBarsPrevious,
    posteriorVariances,
    posteriorLogVariancesClipped: posteriorVariances.map((value, i) => Math.log(i === 0 ? (posteriorVariances[1] as number) : value)),
    posteriorMeanCoefficientsX0: betas.map((beta, i) => (beta * Math.sqrt(alphaBarsPrevious[i] as number)) / (1 - (alphaBars[i] as number))),
    posteriorMeanCoefficientsXt: alphas.map(
      (alpha, i) => ((1 - (alphaBarsPrevious[i] as number)) * Math.sqrt(alpha)) / (1 - (alphaBars[i] as number)),
    ),
    sigmas: alphaBars.map((a) => Math.sqrt((1 - a) / a)),
  };
}

/** Gaussian 2-D data from its own seeded stream, with resumable state. */
function gaussianBatches(seed: number, batchSize: number, withLabels = false): BatchSource {
  const source = createNoiseSource(seed);
  return {
    next() {
      const values = source.normal([batchSize, 2]).map((value, i) => 0.3 * value + (i % 2 === 0 ? 0.5 : -0.5));
      const labels = withLabels ? source.integers(batchSize, 3) : undefined;
      return { x0: tf.tensor2d(values, [batchSize, 2]), ...(labels ? { classLabels: labels } : {}) };
    },
    getState: () => source.getState(),
    setState: (state) => source.setState(state as never),
  };
}

const schedule = linearSchedule(100);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function parameterValues(model: ReturnType<typeof createTinyModel>): Promise<number[]> {
  const out: number[] = [];
  for (const variable of model.parameters.values()) out.push(...(await variable.data()));
  return out;
}

describe('Trainer', () => {
  it('lowers the loss and keeps a loss history', async () => {
    const model = createTinyModel(1);
    const trainer = new Trainer({ model, objective: tinySimpleObjective, schedule, batches: gaussianBatches(2, 64), seed: 3, learningRate: 1e-2 });
    await trainer.train(300);
    const history = trainer.lossHistory;
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(history).toHaveLength(300);
    expect(mean(history.slice(-50))).toBeLessThan(0.85 * mean(history.slice(0, 20)));
    trainer.dispose();
    model.dispose();
  });

  it('resumes exactly: N steps straight equal N/2 + save state + N/2 in a new trainer', async () => {
    const make = () => {
      const model = createTinyModel(5, { numClasses: 3 });
      const trainer = new Trainer({
        model,
        objective: tinySimpleObjective,
        schedule,
        batches: gaussianBatches(6, 16, true),
        seed: 7,
        learningRate: 5e-3,
        warmupSteps: 10,
        gradientClipNorm: 1,
        classDropoutProbability: 0.2,
      });
      return { model, trainer };
    };
    const straight = make();
    await straight.trainer.train(40);
    const expected = await parameterValues(straight.model);

    const first = make();
    await first.trainer.train(20);
    const state = await first.trainer.getState();
    const savedParameters = new Map<string, Float32Array>();
    for (const [name, variable] of first.model.parameters) savedParameters.set(name, (await variable.data()) as Float32Array);

    const second = make();
    for (const [name, variable] of second.model.parameters) variable.assign(tf.tensor(savedParameters.get(name) as Float32Array, variable.shape));
    second.trainer.setState(state);
    await second.trainer.train(20);
    expect(second.trainer.step).toBe(40);
    expect(await parameterValues(second.model)).toEqual(expected);
    expect(second.trainer.lossHistory).toEqual(straight.trainer.lossHistory);
    for (const run of [straight, first, second]) {
      run.trainer.dispose();
      run.model.dispose();
    }
  });

  it('skips non-finite steps, counts them, and stops with a clear message when they persist', async () => {
    let poisoned = false;
    const model = createTinyModel(2, { poison: () => poisoned });
    const trainer = new Trainer({
      model,
      objective: tinySimpleObjective,
      schedule,
      batches: gaussianBatches(1, 8),
      seed: 1,
      learningRate: 1e-3,
      maxConsecutiveNonFinite: 3,
    });
    await trainer.train(2);
    const before = await parameterValues(model);
    poisoned = true;
    const skipped = await trainer.trainStep();
    expect(skipped.skipped).toBe(true);
    expect(trainer.skippedSteps).toBe(1);
    expect(await parameterValues(model)).toEqual(before);
    await trainer.trainStep();
    await expect(trainer.trainStep()).rejects.toThrow(/not finite.*3 steps in a row/);
    poisoned = false;
    expect((await trainer.trainStep()).skipped).toBe(false);
    trainer.dispose();
    model.dispose();
  });

  it('lets timers run during a long loop: an abort from a timer stops it within a few steps', async () => {
    const model = createTinyModel(5);
    const trainer = new Trainer({ model, objective: tinySimpleObjective, schedule, batches: gaussianBatches(6, 8), seed: 7, learningRate: 1e-3 });
    const controller = new AbortController();
    let stepsAtAbort = -1;
    setTimeout(() => {
      stepsAtAbort = trainer.step;
      controller.abort(new Error('stopped by a timer'));
    }, 30);
    // 1,000,000 steps would take many minutes; without a macrotask turn the timer never fires
    await expect(trainer.train(1_000_000, undefined, controller.signal)).rejects.toThrow('stopped by a timer');
    expect(stepsAtAbort).toBeGreaterThan(0);
    expect(trainer.step).toBe(stepsAtAbort);
    trainer.dispose();
    model.dispose();
  });

  it('leaks no tensors over many steps', async () => {
    const model = createTinyModel(3, { numClasses: 3 });
    const trainer = new Trainer({
      model,
      objective: tinySimpleObjective,
      schedule,
      batches: gaussianBatches(4, 8, true),
      seed: 2,
      learningRate: 1e-3,
      gradientClipNorm: 0.5,
      classDropoutProbability: 0.5,
    });
    await trainer.trainStep();
    const before = tf.memory().numTensors;
    await trainer.train(50);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });

  it('rejects bad options by name', () => {
    const model = createTinyModel(1);
    const base = { model, objective: tinySimpleObjective, schedule, batches: gaussianBatches(1, 4), seed: 1 };
    expect(() => new Trainer({ ...base, learningRate: 0 })).toThrow(/learningRate/);
    expect(() => new Trainer({ ...base, learningRate: 1e-3, classDropoutProbability: 0.1 })).toThrow(/null class/);
    expect(() => new Trainer({ ...base, learningRate: 1e-3, classDropoutProbability: 2 })).toThrow(/classDropoutProbability/);
    model.dispose();
  });
});
