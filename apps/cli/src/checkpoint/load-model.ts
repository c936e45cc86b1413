import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { DiffusionError, type NoiseSchedule } from '@tfjs-diffusion/core';
import { createNoiseAwareClassifier, createUNet, type NoiseAwareClassifier, type UNetModel } from '@tfjs-diffusion/networks';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { createEvaluationClassifier, type EvaluationClassifier, type EvaluationClassifierConfig } from '../mnist/evaluation-classifier.js';
import { EMA_PREFIX, loadParametersFrom, metadataJson, modelTensors, readModelFile, tensorsWithPrefix } from './model-file.js';

/** The repository's models/ folder, found from this file (src/ or dist/ of apps/cli), so any cwd works. */
export const MODELS_DIRECTORY = fileURLToPath(new URL('../../../../models/', import.meta.url));
export const DEFAULT_DENOISER = `${MODELS_DIRECTORY}mnist-unet.safetensors`;
export const DEFAULT_NOISY_CLASSIFIER = `${MODELS_DIRECTORY}mnist-classifier.safetensors`;
export const DEFAULT_EVALUATION_CLASSIFIER = `${MODELS_DIRECTORY}mnist-evaluation-classifier.safetensors`;

/** Fails early, naming the option and the file, when a default model file is absent. */
export function requireFile(path: string, option: string, how: string): void {
  if (!existsSync(path)) throw new DiffusionError('invalid-argument', `${option}: ${path} does not exist; ${how}`);
}

export interface LoadedDenoiser {
  readonly model: UNetModel;
  readonly schedule: NoiseSchedule;
  /** 'ema' when the file held EMA weights (a training checkpoint's 'ema.' tensors), else 'model'. */
  readonly weights: 'ema' | 'model';
  readonly metadata: Readonly<Record<string, string>>;
}

const SCHEDULE_KINDS = ['linear', 'cosine', 'scaled-linear', 'sigmoid'];

/** The training schedule stored in a file's metadata. */
function readSchedule(file: Parameters<typeof metadataJson>[0], path: string): NoiseSchedule {
  const spec = metadataJson<{ kind?: unknown; timesteps?: unknown }>(file, 'schedule', path);
  if (!SCHEDULE_KINDS.includes(String(spec?.kind)) || !Number.isInteger(spec?.timesteps)) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.schedule must be {"kind", "timesteps"}, got ${JSON.stringify(spec)}`);
  }
  return createSchedule({ kind: spec.kind as 'cosine', timesteps: spec.timesteps as number });
}

/** Builds the network a checkpoint's config describes, after checking it is of the expected type; errors name the file. */
function buildNetwork<T>(path: string, config: Record<string, unknown>, type: string, what: string, create: (config: Record<string, unknown>) => T): T {
  if (config['type'] !== type) {
    throw new DiffusionError('invalid-checkpoint', `${path} holds a ${JSON.stringify(config['type'])} network, not ${what}`);
  }
  try {
    return create(config);
  } catch (error) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.config: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads a U-Net denoiser from a training checkpoint (its EMA weights when present) or a shipped
 * ema.safetensors; every error names the file.
 */
export async function loadDenoiser(path: string, prefer: 'ema' | 'model' = 'ema'): Promise<LoadedDenoiser> {
  const { file, config } = await readModelFile(path);
  const schedule = readSchedule(file, path);
  const model: UNetModel = buildNetwork(path, config, 'unet', 'a U-Net denoiser', createUNet);
  const ema = tensorsWithPrefix(file, EMA_PREFIX);
  const fromEma = prefer === 'ema' && ema.size > 0;
  // a shipped file holds its EMA weights under the model's own names and says so in its metadata
  const weights = fromEma || (ema.size === 0 && String(file.metadata['weights'] ?? '').startsWith('ema')) ? 'ema' : 'model';
  try {
    loadParametersFrom(model, fromEma ? ema : modelTensors(file), path, fromEma ? 'EMA parameters' : 'parameters');
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, schedule, weights, metadata: file.metadata };
}

/** Loads the noise-aware classifier written by `train-classifier --kind noisy`. */
export async function loadNoisyClassifier(path: string): Promise<{ classifier: NoiseAwareClassifier; schedule: NoiseSchedule }> {
  const { file, config } = await readModelFile(path);
  const schedule = readSchedule(file, path);
  const classifier: NoiseAwareClassifier = buildNetwork(path, config, 'classifier', 'a noise-aware classifier', createNoiseAwareClassifier);
  try {
    loadParametersFrom(classifier, modelTensors(file), path);
  } catch (error) {
    classifier.dispose();
    throw error;
  }
  return { classifier, schedule };
}

/** Loads the clean-digit evaluation classifier written by `train-classifier --kind evaluation`. */
export async function loadEvaluationClassifier(path: string): Promise<EvaluationClassifier> {
  const { file, config } = await readModelFile(path);
  if (config['type'] !== 'evaluation-classifier') {
    throw new DiffusionError('invalid-checkpoint', `${path} holds a ${JSON.stringify(config['type'])} network, not an evaluation classifier`);
  }
  let classifier: EvaluationClassifier;
  try {
    classifier = createEvaluationClassifier(config as unknown as EvaluationClassifierConfig);
  } catch (error) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.config: ${(error as Error).message}`, { cause: error });
  }
  try {
    loadParametersFrom(classifier, modelTensors(file), path);
  } catch (error) {
    classifier.dispose();
    throw error;
  }
  return classifier;
}
