import * as tf from '@tensorflow/tfjs-core';
import { type DiffusionModel, type ModelInput, type PredictionKind, createNoiseSource } from '@tfjs-diffusion/core';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { createImportanceTimestepSampler } from './importance-timestep-sampler.js';
import { createSimpleObjective } from './simple-objective.js';
import { disposeResult } from './test-utils/dispose-result.js';
import { fixedTimestepSampler } from './test-utils/fixed-timestep-sampler.js';
import { createGaussianOracleModel } from './test-utils/gaussian-oracle-model.js';
import { useCpuBackend } from './test-utils/setup-cpu.js';

beforeAll(useCpuBackend);

const schedule = createSchedule({ kind: 'linear', timesteps: 1000 });
const dataMean = -0.1;
const dataStd = 0.4;

function zeroModel(prediction: PredictionKind): DiffusionModel {
  return { prediction, variance: 'fixed-small', conditioning: null, predict: ({ x }) => ({ prediction: tf.zerosLike(x) }) };
}

function gaussianData(seed: string, shape: number[]): tf.Tensor {
  const noise = createNoiseSource(seed);
  return tf.tidy(() => tf.add(dataMean, tf.mul(dataStd, tf.tensor(noise.normal(shape), shape))));
}

function lossValue(objective = createSimpleObjective(), input: Parameters<ReturnType<typeof createSimpleObjective>['compute']>[0]): number {
  const result = objective.compute(input);
  const value = result.loss.dataSync()[0] as number;
  disposeResult(result);
  return value;
}

describe('createSimpleObjective', () => {
  it('is about 1 per dimension for a model that predicts zeros with an epsilon target', () => {
    const x0 = gaussianData('zeros', [64, 256]);
    const loss = lossValue(undefined, { model: zeroModel('epsilon'), schedule, x0, noise: createNoiseSource(1) });
    // E[eps^2] = 1; 16384 squares have relative standard error ~1.1 %
    expect(Math.abs(loss - 1)).toBeLessThan(0.05);
    x0.dispose();
  });

  /*
   * For x0 ~ N(m, s^2) the exact denoiser leaves the irreducible errors (V = Var[x0 | x_t], D = aBar s^2 + 1 - aBar):
   * x0 target: V = s^2 (1 - aBar) / D; eps target: aBar V / (1 - aBar) = aBar s^2 / D; v target: V / (1 - aBar) = s^2 / D.
   */
  const irreducible = (kind: PredictionKind, index: number): number => {
    const alphaBar = schedule.alphaBars[index] as number;
    const denominator = alphaBar * dataStd ** 2 + 1 - alphaBar;
    if (kind === 'x0') return (dataStd ** 2 * (1 - alphaBar)) / denominator;
    if (kind === 'epsilon') return (alphaBar * dataStd ** 2) / denominator;
    return dataStd ** 2 / denominator;
  };

  it.each([
    ['x0', 5],
    ['x0', 300],
    ['epsilon', 300],
    ['epsilon', 900],
    ['v', 5],
    ['v', 600],
  ] as const)('matches the irreducible error of the exact %s model at index %i (4 %)', (kind, index) => {
    const x0 = gaussianData(`exact-${kind}-${index}`, [200, 100]);
    const model = createGaussianOracleModel({ schedule, dataMean, dataStd, prediction: kind });
    const loss = lossValue(undefined, { model, schedule, x0, noise: createNoiseSource(index), timestepSampler: fixedTimestepSampler(index) });
    expect(Math.abs(loss / irreducible(kind, index) - 1)).toBeLessThan(0.04);
    x0.dispose();
  });

  it('is near 0 for the exact x0 model at small noise', () => {
    const x0 = gaussianData('small-noise', [32, 64]);
    const model = createGaussianOracleModel({ schedule, dataMean, dataStd, prediction: 'x0' });
    const loss = lossValue(undefined, { model, schedule, x0, noise: createNoiseSource(2), timestepSampler: fixedTimestepSampler(0) });
    expect(loss).toBeLessThan(2e-4);
    x0.dispose();
  });

  it('measures the error in another space when `prediction` overrides it', () => {
    const index = 300;
    const x0 = gaussianData('override', [200, 100]);
    const model = createGaussianOracleModel({ schedule, dataMean, dataStd, prediction: 'x0' });
    const objective = createSimpleObjective({ prediction: 'epsilon' });
    const loss = lossValue(objective, { model, schedule, x0, noise: createNoiseSource(4), timestepSampler: fixedTimestepSampler(index) });
    expect(Math.abs(loss / irreducible('epsilon', index) - 1)).toBeLessThan(0.04);
    x0.dispose();
    expect(() => createSimpleObjective({ prediction: 'score' as PredictionKind })).toThrow(/prediction must be one of 'epsilon', 'x0', 'v'/);
  });

  it('feeds the model the original float32 timesteps of the drawn indices, in training mode', () => {
    const respaced = respaceSchedule(schedule, '10');
    expect(respaced.timesteps).toEqual([0, 111, 222, 333, 444, 555, 666, 777, 888, 999]);
    const seen: ModelInput[] = [];
    const seenTimesteps: number[][] = [];
    const model: DiffusionModel = {
      ...zeroModel('epsilon'),
      predict: (input) => {
        seen.push(input);
        seenTimesteps.push(Array.from(input.timesteps.dataSync()));
        return { prediction: tf.zerosLike(input.x) };
      },
    };
    const x0 = tf.zeros([16, 2]);
    const labels = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6], 'int32');
    const result = createSimpleObjective().compute({
      model,
      schedule: respaced,
      x0,
      noise: createNoiseSource(5),
      condition: { classLabels: labels },
    });
    const input = seen[0] as ModelInput;
    expect(input.timesteps.dtype).toBe('float32');
    expect(input.timesteps.shape).toEqual([16]);
    expect(input.training).toBe(true);
    expect(input.condition?.classLabels).toBe(labels);
    expect(Array.from(result.indices, (index) => respaced.timesteps[index])).toEqual(seenTimesteps[0]);
    disposeResult(result);
    tf.dispose([x0, labels]);
  });

  it('weights each sample by the timestep sampler weight and gives back unweighted per-sample losses', () => {
    const sampler = createImportanceTimestepSampler(1000, { historyPerTerm: 1, uniformProbability: 0.5 });
    sampler.update(
      Int32Array.from({ length: 1000 }, (_, step) => step),
      Float64Array.from({ length: 1000 }, (_, step) => 1 + step),
    );
    const x0 = gaussianData('weights', [8, 16]);
    const result = createSimpleObjective().compute({
      model: zeroModel('epsilon'),
      schedule,
      x0,
      noise: createNoiseSource(6),
      timestepSampler: sampler,
    });
    // recompute the weights from the same noise stream
    const { weights } = sampler.sample(8, createNoiseSource(6));
    const perSample = result.perSampleLoss.dataSync();
    const expected = Array.from(perSample).reduce((sum, loss, sample) => sum + loss * (weights[sample] as number), 0) / 8;
    expect(result.loss.dataSync()[0]).toBeCloseTo(expected, 5);
    expect(result.terms.mse?.dataSync()[0]).toBeCloseTo(expected, 5);
    disposeResult(result);
    x0.dispose();
  });

  it('is reproducible for a seed, differentiable, and leaks no tensors', () => {
    const scale = tf.variable(tf.scalar(0.5));
    const model: DiffusionModel = { ...zeroModel('epsilon'), predict: ({ x }) => ({ prediction: tf.mul(scale, x) }) };
    const x0 = gaussianData('grads', [4, 8]);
    const before = tf.memory().numTensors;
    const objective = createSimpleObjective();
    const first = lossValue(objective, { model, schedule, x0, noise: createNoiseSource(11) });
    const second = lossValue(objective, { model, schedule, x0, noise: createNoiseSource(11) });
    expect(first).toBe(second);
    const { value, grads } = tf.variableGrads(() => objective.compute({ model, schedule, x0, noise: createNoiseSource(11) }).loss, [scale]);
    expect(value.dataSync()[0]).toBeCloseTo(first, 6);
    expect(Math.abs(grads[scale.name]?.dataSync()[0] as number)).toBeGreaterThan(1e-3);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, scale]);
  });

  it('rejects a timestep sampler made for another schedule length', () => {
    const x0 = tf.zeros([4, 2]);
    expect(() =>
      createSimpleObjective().compute({
        model: zeroModel('epsilon'),
        schedule: createSchedule({ kind: 'cosine', timesteps: 10 }),
        x0,
        noise: createNoiseSource(1),
        timestepSampler: fixedTimestepSampler(10),
      }),
    ).toThrow(/gave index 10, but the schedule has 10 steps/);
    expect(() =>
      createSimpleObjective().compute({
        model: zeroModel('epsilon'),
        schedule,
        x0,
        noise: createNoiseSource(1),
        timestepSampler: createImportanceTimestepSampler(100),
      }),
    ).toThrow(/'importance' was made for 100 steps, but the schedule has 1000; create it with numSteps = 1000/);
    x0.dispose();
  });
});
