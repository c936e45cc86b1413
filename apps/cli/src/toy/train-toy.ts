import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoiseSchedule, type Sampler, type TrainableDiffusionModel } from '@tfjs-diffusion/core';
import { toyDataset, type ToyDatasetName } from '@tfjs-diffusion/data';
import { createMlpDenoiser } from '@tfjs-diffusion/networks';
import { createSimpleObjective } from '@tfjs-diffusion/objectives';
import { sampleDdim, sampleDdpm } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { Trainer, type BatchSource, type TrainStepResult } from '@tfjs-diffusion/training';

export interface ToyRunOptions {
  readonly dataset: ToyDatasetName;
  readonly trainSteps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly sampler: 'ddpm' | 'ddim';
  /** Sampling steps (the schedule is respaced to this many); DDPM may use all T. */
  readonly steps: number;
  readonly eta: number;
  readonly samples: number;
  readonly timesteps: number;
  readonly seed: number | string;
  readonly onTrainStep?: (result: TrainStepResult) => void;
}

export interface ToyRun {
  readonly model: TrainableDiffusionModel;
  readonly schedule: NoiseSchedule;
  readonly samples: Float32Array;
  readonly data: Float32Array;
  readonly dataLabels: Int32Array;
  readonly lossHistory: readonly number[];
  readonly modes?: readonly (readonly [number, number])[];
  readonly modeStd?: number;
}

/** Fresh toy points every batch (the distributions are infinite), from a resumable seeded stream. */
function toyBatches(dataset: ToyDatasetName, batchSize: number, seed: number | string): BatchSource {
  const noise = createNoiseSource(`${String(seed)}/data`);
  return {
    next: () => ({ x0: tf.tensor2d(toyDataset(dataset, batchSize, noise).points, [batchSize, 2]) }),
    getState: () => noise.getState(),
    setState: (state) => noise.setState(state as never),
  };
}

/** Trains the MLP denoiser on a 2-D toy distribution with L_simple, then samples from it. */
export async function runToy(options: ToyRunOptions): Promise<ToyRun> {
  const schedule = createSchedule({ kind: 'linear', timesteps: options.timesteps });
  const model = createMlpDenoiser({ type: 'mlp', dataDimension: 2, prediction: 'epsilon', variance: 'fixed-small', seed: 1 });
  const trainer = new Trainer({
    model,
    objective: createSimpleObjective(),
    schedule,
    batches: toyBatches(options.dataset, options.batchSize, options.seed),
    seed: options.seed,
    learningRate: options.learningRate,
    warmupSteps: 100,
    gradientClipNorm: 1,
  });
  try {
    await trainer.train(options.trainSteps, options.onTrainStep);
  } finally {
    trainer.dispose();
  }
  const samplingSchedule = options.steps === options.timesteps ? schedule : respaceSchedule(schedule, `linspace:${options.steps}`);
  const sampler: Sampler<{ eta?: number }> = options.sampler === 'ddpm' ? sampleDdpm : sampleDdim;
  const result = await sampler({
    model,
    schedule: samplingSchedule,
    shape: [options.samples, 2],
    noise: createNoiseSource(`${String(options.seed)}/sampling`),
    eta: options.eta,
  });
  const samples = (await result.data()) as Float32Array;
  result.dispose();
  const reference = toyDataset(options.dataset, options.samples, createNoiseSource(`${String(options.seed)}/reference`));
  return {
    model,
    schedule,
    samples,
    data: reference.points,
    dataLabels: reference.labels,
    lossHistory: trainer.lossHistory,
    ...(reference.modes ? { modes: reference.modes } : {}),
    ...(reference.modeStd !== undefined ? { modeStd: reference.modeStd } : {}),
  };
}

/** For mode-based datasets: the share of samples within `k` standard deviations of a mode, and the share per mode. */
export function modeStatistics(samples: Float32Array, modes: readonly (readonly [number, number])[], modeStd: number, k = 3) {
  const perMode = new Array<number>(modes.length).fill(0);
  let near = 0;
  const count = samples.length / 2;
  for (let point = 0; point < count; point += 1) {
    const x = samples[2 * point] as number;
    const y = samples[2 * point + 1] as number;
    let best = Infinity;
    let bestMode = -1;
    modes.forEach(([mx, my], mode) => {
      const distance = Math.hypot(x - mx, y - my);
      if (distance < best) {
        best = distance;
        bestMode = mode;
      }
    });
    if (best <= k * modeStd) {
      near += 1;
      perMode[bestMode] = (perMode[bestMode] as number) + 1;
    }
  }
  return { withinFraction: near / count, perModeFraction: perMode.map((value) => value / count) };
}
