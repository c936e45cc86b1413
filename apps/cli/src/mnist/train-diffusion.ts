import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, DiffusionError, type NoiseSchedule, type TimestepSampler } from '@tfjs-diffusion/core';
import { checkpointMetadata, latestCheckpoint, saveCheckpointFile, type HostTensor } from '@tfjs-diffusion/checkpoints/node';
import { createBatchIterator, gatherImages, type ImageDataset } from '@tfjs-diffusion/data';
import { createEma, createUNet, type Ema, type UNetModel } from '@tfjs-diffusion/networks';
import { createImportanceTimestepSampler, createObjective, type ObjectiveName } from '@tfjs-diffusion/objectives';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { Trainer, type BatchSource, type TrainStepResult } from '@tfjs-diffusion/training';
import { join } from 'node:path';
import { FORMAT_KEY, SHIPPED_FORMAT, loadTrainingCheckpoint, saveTrainingCheckpoint } from '../checkpoint/training-checkpoint.js';
import { loadParametersFrom } from '../checkpoint/model-file.js';
import { lineChart } from '../plot/charts.js';

/** The schedule a model was trained with, as stored in checkpoint metadata. */
export interface ScheduleSpec {
  readonly kind: 'linear' | 'cosine';
  readonly timesteps: number;
}

/** Every setting that shapes training; stored in each checkpoint so that --resume restores it. */
export interface TrainSettings {
  readonly dataset: string;
  readonly imageSize: number | null;
  readonly network: Record<string, unknown>;
  readonly objective: ObjectiveName;
  readonly schedule: ScheduleSpec;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmup: number;
  readonly gradClip: number;
  /** 0: no EMA. */
  readonly emaDecay: number;
  readonly pUncond: number;
  readonly importanceSampling: boolean;
  readonly seed: number | string;
}

export function scheduleFromSpec(spec: ScheduleSpec): NoiseSchedule {
  return createSchedule({ kind: spec.kind, timesteps: spec.timesteps });
}

/** Seeded, resumable mini-batches of a dataset (a fresh permutation per epoch, last partial batch dropped). */
export function imageBatches(dataset: ImageDataset, batchSize: number, seed: number | string, withLabels: boolean): BatchSource {
  if (batchSize > dataset.count) {
    throw new DiffusionError('invalid-argument', `--batch-size ${batchSize} exceeds the ${dataset.count} images of the dataset`);
  }
  const iterator = createBatchIterator({ count: dataset.count, batchSize, noise: createNoiseSource(`${String(seed)}/data`), dropLast: true });
  return {
    next() {
      const batch = gatherImages(dataset, iterator.nextBatch());
      return { x0: tf.tensor4d(batch.images, batch.shape), ...(withLabels ? { classLabels: batch.labels } : {}) };
    },
    getState: () => iterator.getState(),
    setState: (state) => iterator.setState(state as never),
  };
}

/** A model, its EMA and a trainer wired from the settings. */
export interface TrainingRun {
  readonly settings: TrainSettings;
  readonly model: UNetModel;
  readonly ema: Ema | null;
  readonly trainer: Trainer;
  readonly schedule: NoiseSchedule;
  dispose(): void;
}

export function createTrainingRun(settings: TrainSettings, dataset: ImageDataset): TrainingRun {
  const model = createUNet(settings.network);
  try {
    const conditional = model.config.numClasses !== null;
    if (conditional && dataset.numClasses > model.config.numClasses!) {
      throw new DiffusionError('invalid-argument', `the dataset has ${dataset.numClasses} classes but the network only ${model.config.numClasses}`);
    }
    if (settings.pUncond > 0 && !conditional) {
      throw new DiffusionError('invalid-argument', '--p-uncond > 0 needs a class-conditional network (numClasses set)');
    }
    const schedule = scheduleFromSpec(settings.schedule);
    const ema = settings.emaDecay > 0 ? createEma(model.parameters, settings.emaDecay) : null;
    const timestepSampler: TimestepSampler | undefined = settings.importanceSampling
      ? createImportanceTimestepSampler(schedule.timesteps.length)
      : undefined;
    const trainer = new Trainer({
      model,
      objective: createObjective(settings.objective),
      schedule,
      batches: imageBatches(dataset, settings.batchSize, settings.seed, conditional),
      seed: settings.seed,
      learningRate: settings.learningRate,
      warmupSteps: settings.warmup,
      gradientClipNorm: settings.gradClip,
      ...(timestepSampler ? { timestepSampler } : {}),
      classDropoutProbability: settings.pUncond,
      ...(ema ? { ema } : {}),
    });
    return {
      settings,
      model,
      ema,
      trainer,
      schedule,
      dispose() {
        trainer.dispose();
        ema?.dispose();
        model.dispose();
      },
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function toHost(tensors: ReadonlyMap<string, HostTensor>) {
  return new Map([...tensors].map(([name, tensor]) => [name, { shape: [...tensor.shape], data: tensor.data }]));
}

/** Metadata every file of a run carries besides the config. */
function runMetadata(settings: TrainSettings, commandLine: string): Record<string, string> {
  return {
    schedule: JSON.stringify(settings.schedule),
    objective: settings.objective,
    settings: JSON.stringify(settings),
    command: commandLine,
  };
}

/** Reads the settings stored in a checkpoint. */
export async function readCheckpointSettings(path: string): Promise<TrainSettings> {
  const loaded = await loadTrainingCheckpoint(path);
  try {
    return JSON.parse(loaded.metadata['settings'] ?? '') as TrainSettings;
  } catch {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.settings is missing or not JSON`);
  }
}

/** The newest checkpoint of `directory`, or an error naming the directory. */
export async function requireLatestCheckpoint(directory: string): Promise<string> {
  const latest = await latestCheckpoint(directory);
  if (!latest) throw new DiffusionError('invalid-argument', `--resume: no step-NNNNNN.safetensors checkpoint in ${directory}`);
  return latest.path;
}

export interface TrainDiffusionOptions {
  readonly settings: TrainSettings;
  readonly dataset: ImageDataset;
  /** Steps to run in this invocation (after a resume: on top of the saved step). */
  readonly steps: number;
  readonly checkpointDirectory: string;
  readonly checkpointEvery: number;
  readonly keep: number;
  /** The checkpoint to resume from. */
  readonly resumeFrom?: string;
  readonly commandLine: string;
  /** What ema.safetensors holds: the EMA (default) or the raw parameters (e.g. an early snapshot, where the EMA still carries the initialisation). */
  readonly shipWeights?: 'ema' | 'model';
  readonly onStep?: (result: TrainStepResult, run: { startStep: number; endStep: number }) => void;
  readonly onCheckpoint?: (path: string) => void;
}

export interface TrainDiffusionResult {
  readonly startStep: number;
  readonly step: number;
  readonly lossHistory: readonly number[];
  readonly skippedSteps: number;
  readonly checkpoint: string;
  readonly shipped: string;
  readonly lossPlot: string;
}

/** Smoothed loss: the median of the trailing `window` steps (robust to the L_vlb spikes of the hybrid loss). */
export function smoothLoss(history: readonly number[], window = Math.max(5, Math.round(history.length / 50))): number[] {
  return history.map((_, index) => {
    const recent = history.slice(Math.max(0, index + 1 - window), index + 1).filter(Number.isFinite).sort((a, b) => a - b);
    if (recent.length === 0) return Number.NaN;
    const middle = recent.length >> 1;
    return recent.length % 2 === 1 ? (recent[middle] as number) : ((recent[middle - 1] as number) + (recent[middle] as number)) / 2;
  });
}

/** Draws the loss curve (grey raw, blue trailing median) to `path`; the y range stops at the 98th percentile. */
export function saveLossPlot(history: readonly number[], path: string, offset = 0): void {
  const x = history.map((_, index) => offset + index + 1);
  const sorted = [...history].filter(Number.isFinite).sort((a, b) => a - b);
  const high = sorted.length ? (sorted[Math.floor(0.98 * (sorted.length - 1))] as number) : 1;
  const low = sorted.length ? Math.min(0, sorted[0] as number) : 0;
  lineChart(
    [
      { x, y: [...history], color: [200, 200, 200], name: 'loss per step' },
      { x, y: smoothLoss(history), color: [31, 119, 180], name: 'trailing median' },
    ],
    { yRange: [low, high > low ? high * 1.05 : low + 1], title: 'Training loss', xTitle: 'step', yTitle: 'loss' },
  ).save(path);
}

/**
 * Trains the U-Net denoiser: checkpoints every `checkpointEvery` steps and at the end (the last
 * `keep` kept), each with the loss curve loss.png and ema.safetensors (F16, EMA weights only) to ship.
 * A resumed run restores parameters, EMA, Adam moments, noise, batch order and the timestep
 * sampler, so N steps straight and N/2 + resume + N/2 give the same parameters.
 */
export async function trainDiffusion(options: TrainDiffusionOptions): Promise<TrainDiffusionResult> {
  const { settings, dataset, checkpointDirectory } = options;
  const run = createTrainingRun(settings, dataset);
  try {
    if (options.resumeFrom) {
      const loaded = await loadTrainingCheckpoint(options.resumeFrom);
      loadParametersFrom(run.model, toHost(loaded.parameters), options.resumeFrom, 'model parameters');
      if (run.ema) {
        loadParametersFrom({ parameters: run.ema.shadowParameters }, toHost(loaded.emaParameters), options.resumeFrom, 'EMA parameters');
      }
      run.trainer.setState(loaded.trainerState);
    }
    const startStep = run.trainer.step;
    const endStep = startStep + options.steps;
    const metadata = runMetadata(settings, options.commandLine);
    const lossPlot = join(checkpointDirectory, 'loss.png');
    let lastCheckpoint = options.resumeFrom ?? '';
    // The shipped file, rewritten with every checkpoint: EMA weights (or the model's without EMA)
    // in F16 under the model's own names.
    const shipped = join(checkpointDirectory, 'ema.safetensors');
    const saveShipped = async () => {
      const useEma = run.ema !== null && options.shipWeights !== 'model';
      const weights = useEma && run.ema ? run.ema.shadowParameters : run.model.parameters;
      const tensors = new Map<string, HostTensor>();
      for (const [name, variable] of weights) tensors.set(name, { shape: [...variable.shape], data: (await variable.data()) as Float32Array });
      await saveCheckpointFile(shipped, tensors, {
        dtype: 'F16',
        metadata: checkpointMetadata(run.model.config, {
          ...metadata,
          [FORMAT_KEY]: SHIPPED_FORMAT,
          step: String(run.trainer.step),
          weights: useEma ? `ema ${settings.emaDecay}` : 'model',
        }),
      });
    };
    const checkpoint = async () => {
      lastCheckpoint = await saveTrainingCheckpoint(
        checkpointDirectory,
        {
          config: run.model.config,
          parameters: run.model.parameters,
          ...(run.ema ? { emaParameters: run.ema.shadowParameters } : {}),
          trainerState: await run.trainer.getState(),
          metadata,
        },
        options.keep,
      );
      if (run.trainer.lossHistory.length > 1) saveLossPlot(run.trainer.lossHistory, lossPlot);
      await saveShipped();
      options.onCheckpoint?.(lastCheckpoint);
    };
    await run.trainer.train(options.steps, async (result) => {
      options.onStep?.(result, { startStep, endStep });
      if (result.step % options.checkpointEvery === 0 && result.step !== endStep) await checkpoint();
    });
    await checkpoint();
    return {
      startStep,
      step: run.trainer.step,
      lossHistory: [...run.trainer.lossHistory],
      skippedSteps: run.trainer.skippedSteps,
      checkpoint: lastCheckpoint,
      shipped,
      lossPlot,
    };
  } finally {
    run.dispose();
  }
}
