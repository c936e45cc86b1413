import { DiffusionError } from '@tfjs-diffusion/core';
import { loadCheckpointFile, readConfigFromMetadata, type ParsedSafetensors } from '@tfjs-diffusion/checkpoints/node';
import { loadParameters, type ParameterData } from '@tfjs-diffusion/networks';

/** Prefixes of the tensors a training checkpoint holds besides the model's own parameters. */
export const EMA_PREFIX = 'ema.';
export const ADAM_FIRST_PREFIX = 'adam.m.';
export const ADAM_SECOND_PREFIX = 'adam.v.';
export const LOSS_HISTORY_TENSOR = 'trainer.loss-history';
const NON_MODEL_PREFIXES = [EMA_PREFIX, ADAM_FIRST_PREFIX, ADAM_SECOND_PREFIX, 'trainer.', 'training.'];

/** The tensors whose names start with `prefix`, with the prefix removed. */
export function tensorsWithPrefix(file: ParsedSafetensors, prefix: string): Map<string, ParameterData> {
  const out = new Map<string, ParameterData>();
  for (const [name, tensor] of file.tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), tensor);
  return out;
}

/** The model's own parameters: every tensor without one of the training prefixes. */
export function modelTensors(file: ParsedSafetensors): Map<string, ParameterData> {
  const out = new Map<string, ParameterData>();
  for (const [name, tensor] of file.tensors) if (!NON_MODEL_PREFIXES.some((prefix) => name.startsWith(prefix))) out.set(name, tensor);
  return out;
}

/** Reads a safetensors file with its config; every error names the file. */
export async function readModelFile(path: string): Promise<{ file: ParsedSafetensors; config: Record<string, unknown> }> {
  const file = await loadCheckpointFile(path);
  // format version 1 (training's files) names the config 'network'; version 0 'config'
  const config = file.metadata['formatVersion'] !== undefined ? metadataJson<Record<string, unknown>>(file, 'network', path) : readConfigFromMetadata(file.metadata, path);
  return { file, config };
}

/** Parses a JSON metadata entry, naming the file and key when it is missing or malformed. */
export function metadataJson<T>(file: ParsedSafetensors, key: string, path: string): T;
export function metadataJson<T>(file: ParsedSafetensors, key: string, path: string, optional: true): T | undefined;
export function metadataJson<T>(file: ParsedSafetensors, key: string, path: string, optional = false): T | undefined {
  const text = Object.hasOwn(file.metadata, key) ? file.metadata[key] : undefined;
  if (text === undefined) {
    if (optional) return undefined;
    throw new DiffusionError('invalid-checkpoint', `${path}: no '${key}' entry in __metadata__`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new DiffusionError('invalid-checkpoint', `${path}: __metadata__.${key} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** loadParameters, with the file named in the error. */
export function loadParametersFrom(
  model: { readonly parameters: ReadonlyMap<string, import('@tensorflow/tfjs-core').Variable> },
  tensors: ReadonlyMap<string, ParameterData>,
  path: string,
  what = 'parameters',
): void {
  try {
    loadParameters(model, tensors);
  } catch (error) {
    if (error instanceof DiffusionError) throw new DiffusionError('invalid-checkpoint', `${path}: ${what}: ${error.message}`, { cause: error });
    throw error;
  }
}
