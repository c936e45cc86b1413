import type * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type NoiseSourceState } from '@tfjs-diffusion/core';
import {
  checkpointFileName,
  loadModelFile,
  pruneCheckpoints,
  saveModelFile,
  type HostTensor,
  type ModelFileMetadataInput,
  type ParsedModelFile,
} from '@tfjs-diffusion/checkpoints/node';
import { join } from 'node:path';
import { lossSummary, type LossSummary } from './loss-history.js';
import type { TrainerState } from './trainer.js';

// Names of the trainer's state tensors in a checkpoint's training section (the model file stores
// them under its own 'training.' prefix); the same names as format version 0, so both read alike.
const ADAM_FIRST = 'adam.m.';
const ADAM_SECOND = 'adam.v.';
const LOSS_HISTORY = 'trainer.loss-history';

/** The trainer state as stored in `__metadata__.training`: everything but the Adam moments and the loss history (tensors). */
type StoredTrainerState = {
  readonly step: number;
  readonly adamStep: number;
  readonly noise: NoiseSourceState;
  readonly timestepSampler?: unknown;
  readonly batches?: unknown;
  readonly skippedSteps: number;
  /** EMA updates so far (absent in checkpoints written before the EMA warm-up: then step - skippedSteps). */
  readonly emaUpdates?: number;
  readonly lossSummary?: LossSummary;
};

/** What a model file says about the model besides its config (format version 1, docs/model-format.md). */
export type ModelDescription = Omit<ModelFileMetadataInput, 'weights' | 'training'>;

async function hostTensors(parameters: ReadonlyMap<string, tf.Variable>): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, variable] of parameters) out.set(name, { shape: [...variable.shape], data: (await variable.data()) as Float32Array });
  return out;
}

export interface TrainingCheckpointInput {
  readonly model: ModelDescription;
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  readonly ema?: { readonly shadowParameters: ReadonlyMap<string, tf.Variable>; readonly updates: number };
  readonly trainerState: TrainerState;
  /** Free-form strings stored in metadata (settings, objective, command, ...). */
  readonly extra: Readonly<Record<string, string>>;
}

/**
 * Saves a training checkpoint `step-NNNNNN.safetensors` atomically as a model file (F32, exact):
 * the model's parameters (raw), the EMA beside them, the Adam moments and the loss history as
 * training tensors, the trainer state in `__metadata__.training`. Keeps the last `keep`
 * checkpoints; returns the path.
 */
export async function saveTrainingCheckpoint(directory: string, input: TrainingCheckpointInput, keep: number): Promise<string> {
  const { trainerState } = input;
  const shapeOf = (name: string) => [...(input.parameters.get(name) as tf.Variable).shape];
  const trainingTensors = new Map<string, HostTensor>();
  for (const [name, data] of trainerState.adam.firstMoments) trainingTensors.set(ADAM_FIRST + name, { shape: shapeOf(name), data });
  for (const [name, data] of trainerState.adam.secondMoments) trainingTensors.set(ADAM_SECOND + name, { shape: shapeOf(name), data });
  if (trainerState.lossHistory.length > 0) {
    trainingTensors.set(LOSS_HISTORY, { shape: [trainerState.lossHistory.length], data: Float32Array.from(trainerState.lossHistory) });
  }
  const stored: StoredTrainerState = {
    step: trainerState.step,
    adamStep: trainerState.adam.step,
    noise: trainerState.noise,
    ...(trainerState.timestepSampler !== undefined ? { timestepSampler: trainerState.timestepSampler } : {}),
    ...(trainerState.batches !== undefined ? { batches: trainerState.batches } : {}),
    skippedSteps: trainerState.skippedSteps,
    ...(input.ema ? { emaUpdates: input.ema.updates } : {}),
    lossSummary: lossSummary(trainerState.lossHistory),
  };
  const path = join(directory, checkpointFileName(trainerState.step));
  await saveModelFile(path, {
    metadata: { ...input.model, weights: 'raw', training: stored },
    tensors: await hostTensors(input.parameters),
    ...(input.ema ? { emaTensors: await hostTensors(input.ema.shadowParameters) } : {}),
    trainingTensors,
    extra: input.extra,
    dtype: 'F32',
  });
  await pruneCheckpoints(directory, keep);
  return path;
}

/** Saves a model file (atomically) without training state: `weights` (EMA or raw) under the network's own names, in F16 unless `dtype` says F32. */
export async function saveShippedModel(
  path: string,
  input: {
    readonly model: ModelDescription;
    readonly weights: ReadonlyMap<string, tf.Variable>;
    readonly kind: 'ema' | 'raw';
    readonly extra: Readonly<Record<string, string>>;
    readonly dtype?: 'F16' | 'F32';
  },
): Promise<void> {
  await saveModelFile(path, {
    metadata: { ...input.model, weights: input.kind },
    tensors: await hostTensors(input.weights),
    extra: input.extra,
    dtype: input.dtype ?? 'F16',
  });
}

export interface LoadedTrainingCheckpoint {
  readonly path: string;
  /** The validated model file (metadata, extra strings). */
  readonly file: ParsedModelFile;
  readonly parameters: ReadonlyMap<string, HostTensor>;
  /** The EMA's shadow parameters (empty without an EMA). */
  readonly emaParameters: ReadonlyMap<string, HostTensor>;
  readonly emaUpdates: number;
  readonly trainerState: TrainerState;
}

function tensorsWithPrefix(tensors: ReadonlyMap<string, HostTensor>, prefix: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, tensor] of tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), tensor.data);
  return out;
}

/** Reads a training checkpoint (format version 1, or the CLI's earlier layout); every error names the file. */
export async function loadTrainingCheckpoint(path: string): Promise<LoadedTrainingCheckpoint> {
  const file = await loadModelFile(path);
  const stored = file.metadata.training as unknown as StoredTrainerState | undefined;
  if (stored === undefined) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${path} is a model file without training state (no __metadata__.training), not a training checkpoint`,
    );
  }
  if (
    !Number.isSafeInteger(stored.adamStep) ||
    !Number.isSafeInteger(stored.skippedSteps) ||
    typeof stored.noise !== 'object' ||
    stored.noise === null
  ) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.training needs integer adamStep and skippedSteps and a noise state`);
  }
  const history = file.trainingTensors.get(LOSS_HISTORY);
  return {
    path,
    file,
    parameters: file.tensors,
    emaParameters: file.emaTensors ?? new Map(),
    emaUpdates: stored.emaUpdates ?? stored.step - stored.skippedSteps,
    trainerState: {
      step: stored.step,
      adam: {
        step: stored.adamStep,
        firstMoments: tensorsWithPrefix(file.trainingTensors, ADAM_FIRST),
        secondMoments: tensorsWithPrefix(file.trainingTensors, ADAM_SECOND),
      },
      noise: stored.noise,
      timestepSampler: stored.timestepSampler,
      batches: stored.batches,
      lossHistory: history ? Array.from(history.data) : [],
      skippedSteps: stored.skippedSteps,
    },
  };
}
