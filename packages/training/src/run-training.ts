import { removeStaleTemporaryFiles } from '@tfjs-diffusion/checkpoints/node';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { ImageDataset } from '@tfjs-diffusion/data';
import { loadParameters, type ParameterData } from '@tfjs-diffusion/networks';
import { join } from 'node:path';
import { fitBatchSize, imageBatches } from './image-batches.js';
import { meanOfLast } from './loss-history.js';
import type { TrainStepResult } from './trainer.js';
import { createTrainingRun, type TrainSettings, type TrainingRun } from './training-run.js';
import { saveShippedModel, saveTrainingCheckpoint, type LoadedTrainingCheckpoint, type ModelDescription } from './training-checkpoint.js';

/** The file name of the model a run ships (rewritten with every checkpoint). */
export const SHIPPED_MODEL_FILE = 'ema.safetensors';

export interface RunTrainingOptions {
  readonly settings: TrainSettings;
  readonly dataset: ImageDataset;
  /** Steps to run in this call (after a resume: on top of the saved step). */
  readonly steps: number;
  readonly checkpointDirectory: string;
  readonly checkpointEvery: number;
  /** Checkpoints kept. */
  readonly keep: number;
  /** The checkpoint to resume from (see findResumableCheckpoint); its parameters, EMA and trainer state are restored. */
  readonly resume?: LoadedTrainingCheckpoint;
  /** Extra metadata strings of every file written (e.g. the command line). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** What the shipped file holds: the EMA (default) or the raw parameters (an early snapshot, where the EMA still carries the initialisation). */
  readonly shipWeights?: 'ema' | 'model';
  readonly onStep?: (result: TrainStepResult, run: { readonly startStep: number; readonly endStep: number }) => void;
  /** After each checkpoint (and the shipped file) is written, with the loss history so far. */
  readonly onCheckpoint?: (event: {
    readonly path: string;
    readonly shipped: string;
    readonly lossHistory: readonly number[];
  }) => void | Promise<void>;
  /** Things the caller should tell the user (a clamped batch size, removed temporary files). */
  readonly onNotice?: (message: string) => void;
  readonly signal?: AbortSignal;
}

export interface RunTrainingResult {
  readonly startStep: number;
  readonly step: number;
  readonly lossHistory: readonly number[];
  /** The mean of the last 100 losses of this call's steps (all of them when fewer; the last loss after 0 steps of a resume; null without any). */
  readonly finalLoss: number | null;
  readonly skippedSteps: number;
  readonly checkpoint: string;
  readonly shipped: string;
  /** Temporary files of interrupted saves removed before the run. */
  readonly removedTemporaryFiles: readonly string[];
}

function loadInto(parameters: TrainingRun['model']['parameters'], tensors: ReadonlyMap<string, ParameterData>, path: string, what: string): void {
  try {
    loadParameters({ parameters }, tensors);
  } catch (error) {
    if (error instanceof DiffusionError) throw new DiffusionError('invalid-checkpoint', `${path}: ${what}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The model-file description of a run's U-Net (docs/model-format.md): network, schedule, prediction, variance, classes, data. */
export function describeModel(run: TrainingRun, dataset: Pick<ImageDataset, 'classNames'>): ModelDescription {
  const config = run.model.config;
  const numClasses = config.numClasses;
  const classNames =
    dataset.classNames && numClasses !== null && dataset.classNames.length === numClasses ? { classNames: [...dataset.classNames] } : {};
  return {
    network: { ...config, type: 'unet' },
    schedule: { ...run.settings.schedule },
    prediction: run.model.prediction,
    variance: run.model.variance,
    conditioning: numClasses === null ? null : { numClasses, nullClass: numClasses, ...classNames },
    data: { shape: [config.imageSize, config.imageSize, config.inChannels], range: [-1, 1] },
  };
}

/**
 * The training run loop: removes the temporary files of interrupted saves, builds the run from the
 * settings (or restores it exactly from `resume`: parameters, EMA and its update count, Adam
 * moments, noise, batch order, timestep sampler), trains `steps` steps, checkpoints every
 * `checkpointEvery` steps and at the end (the last `keep` kept), and rewrites the shipped model
 * file (F16) with each checkpoint. N steps straight and N/2 + resume + N/2 give the same bits.
 */
export async function runTraining(options: RunTrainingOptions): Promise<RunTrainingResult> {
  const { settings, dataset, checkpointDirectory, resume } = options;
  if (!Number.isSafeInteger(options.checkpointEvery) || options.checkpointEvery < 1) {
    throw new DiffusionError('invalid-argument', `checkpointEvery must be a positive integer, got ${options.checkpointEvery}`);
  }
  const inChannels = settings.network['inChannels'];
  if (inChannels !== undefined && inChannels !== dataset.channels) {
    throw new DiffusionError(
      'invalid-argument',
      `the network has ${String(inChannels)} input channels but ${settings.dataset} has ${dataset.channels}`,
    );
  }
  const removedTemporaryFiles = await removeStaleTemporaryFiles(checkpointDirectory);
  if (removedTemporaryFiles.length > 0) {
    options.onNotice?.(`removed ${removedTemporaryFiles.length} temporary file(s) of interrupted saves in ${checkpointDirectory}`);
  }
  const fitted = fitBatchSize(settings.batchSize, dataset.count);
  if (fitted.notice) options.onNotice?.(fitted.notice);
  const conditional = settings.network['numClasses'] !== null && settings.network['numClasses'] !== undefined;
  const run = createTrainingRun(settings, imageBatches(dataset, fitted.batchSize, settings.seed, conditional), dataset.numClasses);
  try {
    if (resume) {
      loadInto(run.model.parameters, resume.parameters, resume.path, 'model parameters');
      if (run.ema) {
        loadInto(run.ema.shadowParameters, resume.emaParameters, resume.path, 'EMA parameters');
        run.ema.setState({ updates: resume.emaUpdates });
      }
      run.trainer.setState(resume.trainerState);
    }
    const startStep = run.trainer.step;
    const endStep = startStep + options.steps;
    const extra = { ...options.metadata, objective: settings.objective, settings: JSON.stringify(settings) };
    const model = describeModel(run, dataset);
    const shipped = join(checkpointDirectory, SHIPPED_MODEL_FILE);
    let lastCheckpoint = resume?.path ?? '';
    const checkpoint = async () => {
      lastCheckpoint = await saveTrainingCheckpoint(
        checkpointDirectory,
        {
          model,
          parameters: run.model.parameters,
          ...(run.ema ? { ema: run.ema } : {}),
          trainerState: await run.trainer.getState(),
          extra,
        },
        options.keep,
      );
      const useEma = run.ema !== null && options.shipWeights !== 'model';
      await saveShippedModel(shipped, {
        model,
        weights: useEma && run.ema ? run.ema.shadowParameters : run.model.parameters,
        kind: useEma ? 'ema' : 'raw',
        extra: { ...extra, step: String(run.trainer.step), ...(useEma ? { emaDecay: String(settings.emaDecay) } : {}) },
      });
      await options.onCheckpoint?.({ path: lastCheckpoint, shipped, lossHistory: run.trainer.lossHistory });
    };
    await run.trainer.train(
      options.steps,
      async (result) => {
        options.onStep?.(result, { startStep, endStep });
        if (result.step % options.checkpointEvery === 0 && result.step !== endStep) await checkpoint();
      },
      options.signal,
    );
    await checkpoint();
    const lossHistory = [...run.trainer.lossHistory];
    return {
      startStep,
      step: run.trainer.step,
      lossHistory,
      finalLoss: meanOfLast(lossHistory, Math.min(100, Math.max(1, run.trainer.step - startStep))),
      skippedSteps: run.trainer.skippedSteps,
      checkpoint: lastCheckpoint,
      shipped,
      removedTemporaryFiles,
    };
  } finally {
    run.dispose();
  }
}
