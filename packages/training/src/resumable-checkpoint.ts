import { DiffusionError } from '@tfjs-diffusion/core';
import { listCheckpoints } from '@tfjs-diffusion/checkpoints/node';
import { loadTrainingCheckpoint, type LoadedTrainingCheckpoint } from './training-checkpoint.js';
import type { TrainSettings } from './training-run.js';

/** A run setting by its path in TrainSettings: 'batchSize', 'schedule.kind', 'schedule.timesteps', ... */
export type TrainSettingPath = Exclude<keyof TrainSettings, 'schedule'> | 'schedule.kind' | 'schedule.timesteps';

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

/** A setting the caller asked for (under its own name, e.g. a CLI option) that differs from the one the checkpoint stores. */
export interface SettingConflict {
  readonly name: string;
  readonly setting: TrainSettingPath;
  readonly requested: unknown;
  readonly stored: unknown;
}

/** What `findResume` found: the checkpoint, its run settings, the checkpoints passed over and the conflicting settings. */
export interface FoundResume {
  readonly checkpoint: LoadedTrainingCheckpoint;
  readonly settings: TrainSettings;
  readonly skipped: readonly SkippedCheckpoint[];
  readonly conflicts: readonly SettingConflict[];
}

function settingAt(settings: TrainSettings, path: TrainSettingPath): unknown {
  if (path === 'schedule.kind') return settings.schedule.kind;
  if (path === 'schedule.timesteps') return settings.schedule.timesteps;
  return settings[path];
}

/**
 * Resume discovery: the newest usable checkpoint of `directory` (findResumableCheckpoint), the run
 * settings it stores (checkpointSettings), and which of the settings the caller was given
 * (`given`: the caller's name for each, e.g. a CLI option, to its setting) `requested` sets
 * differently from the stored run. A resume continues the stored run, so the caller refuses those.
 */
export async function findResume(
  directory: string,
  requested?: TrainSettings,
  given: Readonly<Record<string, TrainSettingPath>> = {},
): Promise<FoundResume> {
  const { checkpoint, skipped } = await findResumableCheckpoint(directory);
  const settings = checkpointSettings(checkpoint);
  const conflicts: SettingConflict[] = [];
  for (const [name, setting] of requested ? Object.entries(given) : []) {
    const [wanted, stored] = [settingAt(requested!, setting), settingAt(settings, setting)];
    if (JSON.stringify(wanted) !== JSON.stringify(stored)) conflicts.push({ name, setting, requested: wanted, stored });
  }
  return { checkpoint, settings, skipped, conflicts };
}
