import { DiffusionError, type NoiseSchedule, type TimestepSampler } from '@tfjs-diffusion/core';
import { createEma, createUNet, type Ema, type UNetModel } from '@tfjs-diffusion/networks';
import { createImportanceTimestepSampler, createObjective, type ObjectiveName } from '@tfjs-diffusion/objectives';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { Trainer, type BatchSource } from './trainer.js';

/** The schedule a model is trained with, as stored in its files. */
export interface ScheduleSpec {
  readonly kind: 'linear' | 'cosine';
  readonly timesteps: number;
}

/** Every setting that shapes a U-Net training run; stored in each checkpoint so that a resume restores it. */
export interface TrainSettings {
  /** Where the images come from, as the caller names it (e.g. 'mnist', 'folder:PATH'). */
  readonly dataset: string;
  readonly imageSize: number | null;
  /** The U-Net config (networks' UNetConfig as JSON). */
  readonly network: Record<string, unknown>;
  readonly objective: ObjectiveName;
  readonly schedule: ScheduleSpec;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmup: number;
  readonly gradClip: number;
  /** 0: no EMA. */
  readonly emaDecay: number;
  /** EMA warm-up min(decay, (1 + n) / (10 + n)); absent in runs started before it existed (no warm-up). */
  readonly emaWarmup?: boolean;
  readonly pUncond: number;
  readonly importanceSampling: boolean;
  readonly seed: number | string;
}

/** The training schedule of a spec. */
export function scheduleFromSpec(spec: ScheduleSpec): NoiseSchedule {
  return createSchedule({ kind: spec.kind, timesteps: spec.timesteps });
}

/** A U-Net, its EMA and a trainer wired from the settings. */
export interface TrainingRun {
  readonly settings: TrainSettings;
  readonly model: UNetModel;
  readonly ema: Ema | null;
  readonly trainer: Trainer;
  readonly schedule: NoiseSchedule;
  dispose(): void;
}

/**
 * Builds the U-Net of `settings.network`, its EMA (with warm-up unless the settings predate it) and
 * a Trainer (Adam with linear warm-up, global-norm clipping, classifier-free label dropout,
 * importance-sampled timesteps when asked) that reads `batches`. `datasetClasses` is checked
 * against the network's class count.
 */
export function createTrainingRun(settings: TrainSettings, batches: BatchSource, datasetClasses = 0): TrainingRun {
  const model = createUNet(settings.network);
  try {
    const conditional = model.config.numClasses !== null;
    if (conditional && datasetClasses > model.config.numClasses!) {
      throw new DiffusionError('invalid-argument', `the dataset has ${datasetClasses} classes but the network only ${model.config.numClasses}`);
    }
    if (settings.pUncond > 0 && !conditional) {
      throw new DiffusionError('invalid-argument', 'pUncond > 0 (--p-uncond) needs a class-conditional network (numClasses set)');
    }
    const schedule = scheduleFromSpec(settings.schedule);
    const ema = settings.emaDecay > 0 ? createEma(model.parameters, settings.emaDecay, { warmup: settings.emaWarmup === true }) : null;
    const timestepSampler: TimestepSampler | undefined = settings.importanceSampling
      ? createImportanceTimestepSampler(schedule.timesteps.length)
      : undefined;
    const trainer = new Trainer({
      model,
      objective: createObjective(settings.objective),
      schedule,
      batches,
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
