import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiffusionError, type NoiseSchedule } from '@tfjs-diffusion/core';
import { loadCheckpointFile, readConfigFromMetadata, type ParsedSafetensors } from '@tfjs-diffusion/checkpoints/node';
import { createNoiseAwareClassifier, createUNet, loadParameters, type NoiseAwareClassifier, type ParameterData, type UNetModel } from '@tfjs-diffusion/networks';
import { createSchedule } from '@tfjs-diffusion/schedules';

/** The repository's models/ folder, found from this file (src/ or dist/ of apps/server), so any cwd works. */
export const MODELS_DIRECTORY = fileURLToPath(new URL('../../../models/', import.meta.url));
export const DEFAULT_MODEL_PATH = `${MODELS_DIRECTORY}mnist-unet.safetensors`;
export const DEFAULT_CLASSIFIER_PATH = `${MODELS_DIRECTORY}mnist-classifier.safetensors`;

/** Tensors of a training checkpoint that are not the model's own parameters. */
const EMA_PREFIX = 'ema.';
const TRAINING_PREFIXES = [EMA_PREFIX, 'adam.m.', 'adam.v.', 'trainer.'];
const SCHEDULE_KINDS = ['linear', 'cosine', 'scaled-linear', 'sigmoid'];

export interface LoadedDenoiser {
  readonly model: UNetModel;
  /** The training schedule stored with the model. */
  readonly schedule: NoiseSchedule;
  /** 'ema' when the weights are EMA weights. */
  readonly weights: 'ema' | 'model';
  readonly metadata: Readonly<Record<string, string>>;
}

export interface LoadedClassifier {
  readonly classifier: NoiseAwareClassifier;
  readonly schedule: NoiseSchedule;
}

async function readFile(path: string, what: string): Promise<{ file: ParsedSafetensors; config: Record<string, unknown> }> {
  if (!existsSync(path)) throw new DiffusionError('invalid-argument', `${what}: ${path} does not exist`);
  const file = await loadCheckpointFile(path);
  return { file, config: readConfigFromMetadata(file.metadata, path) };
}

function readSchedule(file: ParsedSafetensors, path: string): NoiseSchedule {
  let spec: { kind?: unknown; timesteps?: unknown } | undefined;
  try {
    spec = JSON.parse(file.metadata['schedule'] ?? 'null') as typeof spec;
  } catch {
    spec = undefined;
  }
  if (!SCHEDULE_KINDS.includes(String(spec?.kind)) || !Number.isInteger(spec?.timesteps)) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.schedule must be {"kind", "timesteps"}, got ${JSON.stringify(file.metadata['schedule'] ?? null)}`);
  }
  return createSchedule({ kind: spec?.kind as 'cosine', timesteps: spec?.timesteps as number });
}

function selectTensors(file: ParsedSafetensors, keep: (name: string) => string | undefined): Map<string, ParameterData> {
  const out = new Map<string, ParameterData>();
  for (const [name, tensor] of file.tensors) {
    const kept = keep(name);
    if (kept !== undefined) out.set(kept, tensor);
  }
  return out;
}

function build<T extends { dispose(): void }>(path: string, config: Record<string, unknown>, type: string, create: (config: Record<string, unknown>) => T): T {
  if (config['type'] !== type) throw new DiffusionError('invalid-checkpoint', `${path} holds a ${JSON.stringify(config['type'])} network, not a ${type}`);
  try {
    return create(config);
  } catch (error) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.config: ${(error as Error).message}`, { cause: error });
  }
}

function load(model: Parameters<typeof loadParameters>[0] & { dispose(): void }, tensors: Map<string, ParameterData>, path: string): void {
  try {
    loadParameters(model, tensors);
  } catch (error) {
    model.dispose();
    if (error instanceof DiffusionError) throw new DiffusionError('invalid-checkpoint', `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Loads a U-Net denoiser from a shipped model file (models/mnist-unet.safetensors) or a training
 * checkpoint (its EMA weights when present), as the CLI's sample command does.
 */
export async function loadDenoiser(path: string = DEFAULT_MODEL_PATH): Promise<LoadedDenoiser> {
  const { file, config } = await readFile(path, 'model');
  const schedule = readSchedule(file, path);
  const model = build(path, config, 'unet', createUNet);
  const ema = selectTensors(file, (name) => (name.startsWith(EMA_PREFIX) ? name.slice(EMA_PREFIX.length) : undefined));
  const fromEma = ema.size > 0;
  const own = selectTensors(file, (name) => (TRAINING_PREFIXES.some((prefix) => name.startsWith(prefix)) ? undefined : name));
  load(model, fromEma ? ema : own, path);
  const weights = fromEma || String(file.metadata['weights'] ?? '').startsWith('ema') ? 'ema' : 'model';
  return { model, schedule, weights, metadata: file.metadata };
}

/** Loads the noise-aware classifier for classifier guidance (models/mnist-classifier.safetensors). */
export async function loadNoisyClassifier(path: string = DEFAULT_CLASSIFIER_PATH): Promise<LoadedClassifier> {
  const { file, config } = await readFile(path, 'classifier');
  const schedule = readSchedule(file, path);
  const classifier = build(path, config, 'classifier', createNoiseAwareClassifier);
  load(classifier, selectTensors(file, (name) => (TRAINING_PREFIXES.some((prefix) => name.startsWith(prefix)) ? undefined : name)), path);
  return { classifier, schedule };
}
