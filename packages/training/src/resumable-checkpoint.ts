import { DiffusionError } from '@tfjs-diffusion/core';
import { listCheckpoints } from '@tfjs-diffusion/checkpoints/node';
import { loadTrainingCheckpoint, type LoadedTrainingCheckpoint } from './training-checkpoint.js';
import type { TrainSettings } from './training-run.js';

/** A checkpoint that `findResumableCheckpoint` passed over, and why. */
export interface SkippedCheckpoint {
  readonly path: string;
  readonly reason: string;
}

/**
 * The newest `step-NNNNNN.safetensors` of `directory` that loads and validates as a training
 * checkpoint, with the newer ones passed over (truncated, empty, a dangling link, not a training
 * checkpoint) and why. Throws, naming the directory and every reason, when none is usable.
 */
export async function findResumableCheckpoint(directory: string): Promise<{ checkpoint: LoadedTrainingCheckpoint; skipped: SkippedCheckpoint[] }> {
  const entries = await listCheckpoints(directory);
  if (entries.length === 0) throw new DiffusionError('invalid-argument', `no step-NNNNNN.safetensors checkpoint in ${directory}`);
  const skipped: SkippedCheckpoint[] = [];
  for (const entry of [...entries].reverse()) {
    try {
      return { checkpoint: await loadTrainingCheckpoint(entry.path), skipped };
    } catch (error) {
      if (!(error instanceof DiffusionError)) throw error;
      skipped.push({ path: entry.path, reason: error.message });
    }
  }
  throw new DiffusionError('invalid-checkpoint', `no usable checkpoint in ${directory}: ${skipped.map((entry) => entry.reason).join('; ')}`);
}

/** The run settings a checkpoint written by `runTraining` stores (`__metadata__.settings`); the error names the file. */
export function checkpointSettings(checkpoint: LoadedTrainingCheckpoint): TrainSettings {
  const text = checkpoint.file.extra['settings'];
  let settings: unknown;
  try {
    settings = JSON.parse(text ?? '');
  } catch {
    settings = undefined;
  }
  if (typeof settings !== 'object' || settings === null || typeof (settings as TrainSettings).network !== 'object') {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${checkpoint.path}: __metadata__.settings (the run's settings) is missing or not a settings JSON object`,
    );
  }
  return settings as TrainSettings;
}
