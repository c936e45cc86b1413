import { DiffusionError } from '@tfjs-diffusion/core';
import { modelMetadataEntries, readModelMetadata, type ModelFileMetadata, type ModelFileMetadataInput } from './model-metadata.js';
import { validateAgainstShapes } from './network-config.js';
import {
  decodeSafetensorsTensor,
  parseSafetensorsHeader,
  serializeSafetensors,
  type HostTensor,
  type ParsedTensor,
  type SafetensorsEntry,
  type SafetensorsWriteDtype,
} from './safetensors.js';

/** Name prefix of a training checkpoint's EMA weights. */
export const EMA_TENSOR_PREFIX = 'ema.';
/** Name prefix of a training checkpoint's other state tensors (optimizer moments, loss history, ...) in format version 1. */
export const TRAINING_TENSOR_PREFIX = 'training.';
/** Version 0 (the CLI's earlier layout) stored training state under these prefixes, kept with their names. */
const VERSION_0_TRAINING_PREFIXES = ['adam.m.', 'adam.v.', 'trainer.'];

/** A model file, validated and decoded: metadata, the model's tensors and, in a training checkpoint, EMA and state. */
export interface ParsedModelFile {
  readonly name: string;
  readonly metadata: ModelFileMetadata;
  /** The model's parameters under the network's own names (EMA or raw, as `metadata.weights` says). */
  readonly tensors: Map<string, ParsedTensor>;
  /** A training checkpoint's EMA weights (network names), or null. */
  readonly emaTensors: Map<string, ParsedTensor> | null;
  /** A training checkpoint's state tensors by the names the trainer gave them (empty elsewhere). */
  readonly trainingTensors: Map<string, ParsedTensor>;
  /** The other `__metadata__` strings (command, settings, step, ...). */
  readonly extra: Record<string, string>;
}

/** Options of `parseModelFile`. */
export interface ParseModelFileOptions {
  /**
   * The parameter shapes the network of `metadata.network` has, computed without allocating it (the
   * pipelines package passes `@tfjs-diffusion/networks`' shape probe). The model tensors (and EMA)
   * are checked against them before any tensor is decoded.
   */
  readonly expectedShapes?: (metadata: ModelFileMetadata) => ReadonlyMap<string, readonly number[]>;
  /** 'model' skips decoding a training checkpoint's state tensors (default 'all'). */
  readonly decode?: 'all' | 'model';
}

/** What `writeModelFile` writes. */
export interface ModelFileParts {
  readonly metadata: ModelFileMetadataInput;
  /** The model's parameters (EMA or raw as `metadata.weights` says), by network names. */
  readonly tensors: ReadonlyMap<string, HostTensor>;
  /** A training checkpoint's EMA weights, stored under 'ema.'. */
  readonly emaTensors?: ReadonlyMap<string, HostTensor>;
  /** A training checkpoint's state tensors, stored under 'training.' and read back under these names. */
  readonly trainingTensors?: ReadonlyMap<string, HostTensor>;
  /** Free-form strings kept in `__metadata__` (the command line, settings, ...); reserved keys are refused. */
  readonly extra?: Readonly<Record<string, string>>;
  /** 'F32' (default, exact) or 'F16'. */
  readonly dtype?: SafetensorsWriteDtype;
}

/**
 * Encodes a model file (docs/model-format.md): safetensors whose `__metadata__` holds the validated
 * format-version-1 metadata; refuses non-finite values (naming the tensor) and invalid metadata.
 */
export function writeModelFile(parts: ModelFileParts): Uint8Array {
  const metadata = modelMetadataEntries(parts.metadata, parts.extra ?? {});
  const tensors = new Map<string, HostTensor>();
  const add = (map: ReadonlyMap<string, HostTensor> | undefined, prefix: string): void => {
    for (const [name, tensor] of map ?? []) {
      if (prefix === '' && (name.startsWith(EMA_TENSOR_PREFIX) || name.startsWith(TRAINING_TENSOR_PREFIX))) {
        throw new DiffusionError(
          'invalid-argument',
          `writeModelFile: model tensor '${name}' must not start with '${EMA_TENSOR_PREFIX}' or '${TRAINING_TENSOR_PREFIX}'`,
        );
      }
      const data = tensor.data;
      for (let index = 0; index < data.length; index += 1) {
        if (!Number.isFinite(data[index] as number)) {
          throw new DiffusionError(
            'invalid-argument',
            `writeModelFile: tensor '${prefix}${name}' holds a non-finite value (${String(data[index])} at flat index ${index})`,
          );
        }
      }
      tensors.set(prefix + name, tensor);
    }
  };
  add(parts.tensors, '');
  add(parts.emaTensors, EMA_TENSOR_PREFIX);
  add(parts.trainingTensors, TRAINING_TENSOR_PREFIX);
  return serializeSafetensors(tensors, { dtype: parts.dtype ?? 'F32', metadata });
}

/**
 * Reads a model file (format version 1, or the CLI's earlier layout as version 0). Order matters:
 * header, then every metadata field (bounded), then tensor names and shapes against the config,
 * and only then decoding, which refuses non-finite values naming the tensor. Every error is
 * `DiffusionError('invalid-checkpoint')` naming `name`.
 */
export function parseModelFile(bytes: Uint8Array, name: string, options: ParseModelFileOptions = {}): ParsedModelFile {
  // 1. Header: layout only, nothing decoded.
  const header = parseSafetensorsHeader(bytes, name);
  // 2. Metadata: every field, bounded.
  const metadata = readModelMetadata(header.metadata, name);
  const training = metadata.training !== undefined;
  // 3. Which tensor is what.
  const model = new Map<string, SafetensorsEntry>();
  const ema = new Map<string, SafetensorsEntry>();
  const state = new Map<string, SafetensorsEntry>();
  for (const entry of header.entries) {
    if (training && entry.name.startsWith(EMA_TENSOR_PREFIX)) ema.set(entry.name.slice(EMA_TENSOR_PREFIX.length), entry);
    else if (training && metadata.formatVersion >= 1 && entry.name.startsWith(TRAINING_TENSOR_PREFIX))
      state.set(entry.name.slice(TRAINING_TENSOR_PREFIX.length), entry);
    else if (training && metadata.formatVersion === 0 && VERSION_0_TRAINING_PREFIXES.some((prefix) => entry.name.startsWith(prefix)))
      state.set(entry.name, entry);
    else model.set(entry.name, entry);
  }
  // 4. Shapes against the network the config describes, before allocating anything.
  if (options.expectedShapes) {
    let expected: ReadonlyMap<string, readonly number[]>;
    try {
      expected = options.expectedShapes(metadata);
    } catch (error) {
      const field = metadata.formatVersion === 0 ? 'config' : 'network';
      throw new DiffusionError('invalid-checkpoint', `${name}: __metadata__.${field}: ${(error as Error).message}`, { cause: error });
    }
    const field = metadata.formatVersion === 0 ? '__metadata__.config' : '__metadata__.network';
    validateAgainstShapes(model, expected, `${name} (its ${field})`);
    if (ema.size > 0) validateAgainstShapes(ema, expected, `${name} (EMA tensors, its ${field})`);
  }
  // 5. Decode, refusing non-finite values.
  const decode = (entries: Map<string, SafetensorsEntry>): Map<string, ParsedTensor> =>
    new Map([...entries].map(([key, entry]) => [key, decodeSafetensorsTensor(bytes, header, entry, true)]));
  const reserved = new Set([
    'formatVersion',
    'network',
    'schedule',
    'prediction',
    'variance',
    'conditioning',
    'data',
    'weights',
    'training',
    'config',
    'format',
    'trainer',
  ]);
  return {
    name,
    metadata,
    tensors: decode(model),
    emaTensors: ema.size > 0 ? decode(ema) : null,
    trainingTensors: options.decode === 'model' ? new Map() : decode(state),
    extra: Object.fromEntries(Object.entries(header.metadata).filter(([key]) => !reserved.has(key))),
  };
}
