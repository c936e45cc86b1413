import { checkpointFileName, pruneCheckpoints, removeStaleTemporaryFiles } from '@tfjs-diffusion/checkpoints/node';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { ImageDataset } from '@tfjs-diffusion/data';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { heldOutAccuracy, trainClassifier, type TrainableClassifier } from './classifier-training.js';
import { meanOfLast } from './loss-history.js';
import { saveShippedModel, type ModelDescription } from './training-checkpoint.js';
import { scheduleFromSpec, type ScheduleSpec } from './training-run.js';

/** What a classifier's config says about its input and output (both the noise-aware and the evaluation classifier's have it). */
export interface ClassifierShape {
  readonly numClasses: number;
  readonly imageSize: number;
  readonly inChannels: number;
}

export interface ClassifierRunOptions {
  /** The classifier to train, e.g. createNoiseAwareClassifier(NOISY_CLASSIFIER_CONFIG); its `config` goes into every file written. */
  readonly classifier: TrainableClassifier & { readonly config: ClassifierShape };
  readonly dataset: ImageDataset;
  /** Held-out images for the accuracy report (the first `testCount`, default all). */
  readonly testDataset: ImageDataset;
  readonly testCount?: number;
  /** The denoiser's schedule: noise-aware training on x_t at uniform t; absent: clean images (t = 0). */
  readonly schedule?: ScheduleSpec;
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmup: number;
  readonly gradClip: number;
  readonly seed: number | string;
  /** The trained classifier's model file (F16). */
  readonly out: string;
  /** Where step-NNNNNN.safetensors (F32) go every `checkpointEvery` steps (default 500) and at the end; none without it. */
  readonly checkpointDirectory?: string;
  readonly checkpointEvery?: number;
  /** Checkpoints kept (default: all). */
  readonly keep?: number;
  /** Extra metadata strings of every file written (e.g. the command line). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly onStep?: (step: number, loss: number) => void;
  /** After each checkpoint is written, with the loss history so far. */
  readonly onCheckpoint?: (event: { readonly path: string; readonly lossHistory: readonly number[] }) => void | Promise<void>;
  /** Things the caller should tell the user (removed temporary files). */
  readonly onNotice?: (message: string) => void;
}

export interface ClassifierRunResult {
  readonly lossHistory: readonly number[];
  /** The mean of the last 100 losses (null without steps). */
  readonly finalLoss: number | null;
  /** Held-out accuracy: 'clean', and for a noise-aware classifier 't=...' at three noise levels (heldOutAccuracy). */
  readonly accuracy: Readonly<Record<string, number>>;
  readonly out: string;
}

/**
 * The model-file description of a classifier (docs/model-format.md): no prediction or variance, no
 * null class, a schedule only for a noise-aware one; class names when there is one per class.
 */
export function describeClassifier(config: ClassifierShape, schedule: ScheduleSpec | null, classNames?: readonly string[]): ModelDescription {
  const { numClasses, imageSize, inChannels } = config;
  return {
    network: config as unknown as ModelDescription['network'],
    schedule: schedule ? { ...schedule } : null,
    prediction: null,
    variance: null,
    conditioning: { numClasses, nullClass: null, ...(classNames?.length === numClasses ? { classNames: [...classNames] } : {}) },
    data: { shape: [imageSize, imageSize, inChannels], range: [-1, 1] },
  };
}

/**
 * The classifier run loop: trains a classifier (trainClassifier: the noise-aware classifier of
 * classifier guidance, Dhariwal & Nichol 2021, or a clean one), writes an F32 checkpoint every
 * `checkpointEvery` steps and at the end (atomic, the last `keep` kept, temporary files of
 * interrupted saves removed first), scores held-out accuracy and writes the F16 model file `out`
 * with the accuracy in its metadata.
 */
export async function runClassifierTraining(options: ClassifierRunOptions): Promise<ClassifierRunResult> {
  const { classifier, checkpointDirectory, steps } = options;
  const checkpointEvery = options.checkpointEvery ?? 500;
  if (!Number.isSafeInteger(checkpointEvery) || checkpointEvery < 1) {
    throw new DiffusionError('invalid-argument', `checkpointEvery must be a positive integer, got ${checkpointEvery}`);
  }
  const schedule = options.schedule ? scheduleFromSpec(options.schedule) : undefined;
  const model = describeClassifier(classifier.config, options.schedule ?? null, options.dataset.classNames);
  const save = (path: string, extra: Record<string, string>, dtype: 'F16' | 'F32') =>
    saveShippedModel(path, { model, weights: classifier.parameters, kind: 'raw', extra: { ...options.metadata, ...extra }, dtype });
  if (checkpointDirectory !== undefined) {
    await mkdir(checkpointDirectory, { recursive: true });
    const removed = await removeStaleTemporaryFiles(checkpointDirectory);
    if (removed.length > 0) options.onNotice?.(`removed ${removed.length} temporary file(s) of interrupted saves in ${checkpointDirectory}`);
  }
  const lossHistory: number[] = [];
  await trainClassifier({
    classifier,
    dataset: options.dataset,
    mode: schedule ? 'noisy' : 'clean',
    ...(schedule ? { schedule } : {}),
    steps,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    warmup: options.warmup,
    gradClip: options.gradClip,
    seed: options.seed,
    onStep: async (step, loss) => {
      lossHistory.push(loss);
      options.onStep?.(step, loss);
      if (checkpointDirectory === undefined || (step % checkpointEvery !== 0 && step !== steps)) return;
      const path = join(checkpointDirectory, checkpointFileName(step));
      await save(path, { step: String(step) }, 'F32');
      if (options.keep !== undefined) await pruneCheckpoints(checkpointDirectory, options.keep);
      await options.onCheckpoint?.({ path, lossHistory });
    },
  });
  const accuracy = await heldOutAccuracy(classifier, options.testDataset, {
    ...(options.testCount !== undefined ? { count: options.testCount } : {}),
    ...(schedule ? { schedule } : {}),
    seed: options.seed,
  });
  await mkdir(dirname(options.out), { recursive: true });
  await save(options.out, { steps: String(steps), testAccuracy: JSON.stringify(accuracy) }, 'F16');
  return { lossHistory, finalLoss: meanOfLast(lossHistory, 100), accuracy, out: options.out };
}
