import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type NoiseSchedule, type Sampler, type TrainableDiffusionModel } from '@tfjs-diffusion/core';
import { modeStatistics, toyDataset, type ToyDatasetName, type ToyModeStatistics } from '@tfjs-diffusion/data';
import { createMlpDenoiser } from '@tfjs-diffusion/networks';
import { createSimpleObjective } from '@tfjs-diffusion/objectives';
import { sampleDdim, sampleDdpm } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { meanOfLast } from './loss-history.js';
import { Trainer, type BatchSource, type TrainStepResult } from './trainer.js';

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
  /** Training timesteps T of the linear schedule. */
  readonly timesteps: number;
  readonly seed: number | string;
  readonly onTrainStep?: (result: TrainStepResult) => void;
}

export interface ToyRun {
  /** The trained MLP denoiser; the caller disposes it. */
  readonly model: TrainableDiffusionModel;
  readonly schedule: NoiseSchedule;
  /** Interleaved 2-D samples `[x0, y0, x1, y1, ...]`. */
  readonly samples: Float32Array;
  /** As many fresh points of the dataset as samples, for comparison. */
  readonly data: Float32Array;
  readonly dataLabels: Int32Array;
  readonly lossHistory: readonly number[];
  /** The mean of the last 100 losses (null without training steps). */
  readonly finalLoss: number | null;
  /** Mode-based datasets (eight-gaussians): how the samples cover the modes (within 3 std). */
  readonly statistics?: ToyModeStatistics;
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

/**
 * The 2-D toy experiment: trains the MLP denoiser on a toy distribution with L_simple (DDPM, Ho et
 * al. 2020) on a linear schedule (Adam, 100 warm-up steps, clipping at 1), then draws samples with
 * DDPM or DDIM (Song et al. 2021) on the schedule respaced to `steps`, plus as many reference points
 * and, for eight-gaussians, the mode coverage of the samples.
 */
export async function runToyDiffusion(options: ToyRunOptions): Promise<ToyRun> {
  const schedule = createSchedule({ kind: 'linear', timesteps: options.timesteps });
  const model = createMlpDenoiser({ type: 'mlp', dataDimension: 2, prediction: 'epsilon', variance: 'fixed-small', seed: 1 });
  try {
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
      finalLoss: meanOfLast(trainer.lossHistory, 100),
      ...(reference.modes && reference.modeStd !== undefined ? { statistics: modeStatistics(samples, reference.modes, reference.modeStd) } : {}),
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
