import type * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type NoiseSourceState } from '@tfjs-diffusion/core';
import {
  checkpointFileName,
  checkpointMetadata,
  loadCheckpointFile,
  pruneCheckpoints,
  readConfigFromMetadata,
  saveCheckpointFile,
  type HostTensor,
} from '@tfjs-diffusion/checkpoints/node';
import { join } from 'node:path';
import type { TrainerState } from '@tfjs-diffusion/training';
import {
  ADAM_FIRST_PREFIX,
  ADAM_SECOND_PREFIX,
  EMA_PREFIX,
  LOSS_HISTORY_TENSOR,
  metadataJson,
  modelTensors,
  tensorsWithPrefix,
} from './model-file.js';

/** Metadata key of the training checkpoint format marker. */
export const FORMAT_KEY = 'format';
export const TRAINING_FORMAT = 'tfjs-diffusion-training/1';
export const SHIPPED_FORMAT = 'tfjs-diffusion-model/1';

/** The trainer state as stored in metadata: everything but the Adam moments and the loss history (tensors). */
interface StoredTrainerState {
  readonly step: number;
  readonly adamStep: number;
  readonly noise: NoiseSourceState;
  readonly timestepSampler?: unknown;
  readonly batches?: unknown;
  readonly skippedSteps: number;
  readonly lossSummary: { count: number; first: number | null; last: number | null; meanOfLast100: number | null; min: number | null };
}

async function hostTensors(parameters: ReadonlyMap<string, tf.Variable>, prefix = ''): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, variable] of parameters) out.set(prefix + name, { shape: [...variable.shape], data: (await variable.data()) as Float32Array });
  return out;
}

function summary(history: readonly number[]): StoredTrainerState['lossSummary'] {
  const tail = history.slice(-100);
  return {
    count: history.length,
    first: history[0] ?? null,
    last: history[history.length - 1] ?? null,
    meanOfLast100: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null,
    min: history.length ? Math.min(...history) : null,
  };
}

export interface TrainingCheckpointInput {
  readonly config: object;
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  readonly emaParameters?: ReadonlyMap<string, tf.Variable>;
  readonly trainerState: TrainerState;
  /** JSON-safe strings stored in metadata (schedule, objective, settings, command). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Saves a training checkpoint `step-NNNNNN.safetensors` atomically (F32, exact): the model's
 * parameters, the EMA under 'ema.', the Adam moments under 'adam.m.' / 'adam.v.', the loss history,
 * and in metadata the network config, the trainer state and the caller's entries. Keeps the last
 * `keep` checkpoints; returns the path.
 */
export async function saveTrainingCheckpoint(directory: string, input: TrainingCheckpointInput, keep: number): Promise<string> {
  const { trainerState } = input;
  const tensors = await hostTensors(input.parameters);
  if (input.emaParameters) for (const [name, tensor] of await hostTensors(input.emaParameters, EMA_PREFIX)) tensors.set(name, tensor);
  for (const [name, data] of trainerState.adam.firstMoments) {
    tensors.set(ADAM_FIRST_PREFIX + name, { shape: [...(input.parameters.get(name) as tf.Variable).shape], data });
  }
  for (const [name, data] of trainerState.adam.secondMoments) {
    tensors.set(ADAM_SECOND_PREFIX + name, { shape: [...(input.parameters.get(name) as tf.Variable).shape], data });
  }
  if (trainerState.lossHistory.length > 0) {
    tensors.set(LOSS_HISTORY_TENSOR, { shape: [trainerState.lossHistory.length], data: Float32Array.from(trainerState.lossHistory) });
  }
  const stored: StoredTrainerState = {
    step: trainerState.step,
    adamStep: trainerState.adam.step,
    noise: trainerState.noise,
    ...(trainerState.timestepSampler !== undefined ? { timestepSampler: trainerState.timestepSampler } : {}),
    ...(trainerState.batches !== undefined ? { batches: trainerState.batches } : {}),
    skippedSteps: trainerState.skippedSteps,
    lossSummary: summary(trainerState.lossHistory),
  };
  const path = join(directory, checkpointFileName(trainerState.step));
  await saveCheckpointFile(path, tensors, {
    dtype: 'F32',
    metadata: checkpointMetadata(input.config, { ...input.metadata, [FORMAT_KEY]: TRAINING_FORMAT, trainer: JSON.stringify(stored) }),
  });
  await pruneCheckpoints(directory, keep);
  return path;
}

export interface LoadedTrainingCheckpoint {
  readonly path: string;
  readonly config: Record<string, unknown>;
  readonly metadata: Record<string, string>;
  readonly parameters: Map<string, HostTensor>;
  readonly emaParameters: Map<string, HostTensor>;
  readonly trainerState: TrainerState;
}

/** Reads a checkpoint written by `saveTrainingCheckpoint`; every error names the file. */
export async function loadTrainingCheckpoint(path: string): Promise<LoadedTrainingCheckpoint> {
  const file = await loadCheckpointFile(path);
  const config = readConfigFromMetadata(file.metadata, path);
  if (file.metadata[FORMAT_KEY] !== TRAINING_FORMAT) {
    throw new DiffusionError('invalid-checkpoint', `${path} is not a training checkpoint (its __metadata__.format is ${JSON.stringify(file.metadata[FORMAT_KEY] ?? null)}, expected '${TRAINING_FORMAT}')`);
  }
  const stored = metadataJson<StoredTrainerState>(file, 'trainer', path);
  const history = file.tensors.get(LOSS_HISTORY_TENSOR);
  const toData = (map: Map<string, { data: Float32Array }>) => new Map([...map].map(([name, tensor]) => [name, tensor.data]));
  return {
    path,
    config,
    metadata: file.metadata,
    parameters: modelTensors(file),
    emaParameters: tensorsWithPrefix(file, EMA_PREFIX),
    trainerState: {
      step: stored.step,
      adam: {
        step: stored.adamStep,
        firstMoments: toData(tensorsWithPrefix(file, ADAM_FIRST_PREFIX)),
        secondMoments: toData(tensorsWithPrefix(file, ADAM_SECOND_PREFIX)),
      },
      noise: stored.noise,
      timestepSampler: stored.timestepSampler,
      batches: stored.batches,
      lossHistory: history ? Array.from(history.data) : [],
      skippedSteps: stored.skippedSteps,
    },
  };
}
