import { DiffusionError } from '@tfjs-diffusion/core';
import {
  MODEL_METADATA_KEYS,
  modelMetadataEntries,
  readModelMetadata,
  type ModelFileMetadata,
  type ModelFileMetadataInput,
} from './model-metadata.js';
import { validateAgainstShapes } from './network-config.js';
import {
  serializeSafetensors,
  type HostTensor,
  type ParsedTensor,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsWriteDtype,
} from './safetensors.js';
import { encodeSafetensorsData, safetensorsLayout, type SafetensorsLayout } from './safetensors-layout.js';
import { decodeSafetensorsTensorOf, parseSafetensorsHeaderOf } from './safetensors-source.js';
import type { ByteSource } from './torch-byte-source.js';

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
      requireFinite(`${prefix}${name}`, tensor.data);
      tensors.set(prefix + name, tensor);
    }
  };
  add(parts.tensors, '');
  add(parts.emaTensors, EMA_TENSOR_PREFIX);
  add(parts.trainingTensors, TRAINING_TENSOR_PREFIX);
  return serializeSafetensors(tensors, { dtype: parts.dtype ?? 'F32', metadata });
}

/** Throws `invalid-argument` naming the tensor when `data` holds NaN or an infinity. */
function requireFinite(name: string, data: Float32Array): void {
  for (let index = 0; index < data.length; index += 1) {
    if (!Number.isFinite(data[index] as number)) {
      throw new DiffusionError(
        'invalid-argument',
        `writeModelFile: tensor '${name}' holds a non-finite value (${String(data[index])} at flat index ${index})`,
      );
    }
  }
}

/** What `modelFileLayout` plans: a model file's metadata and its model tensors' names and shapes (no data). */
export interface ModelFileLayoutParts {
  readonly metadata: ModelFileMetadataInput;
  /** The model's parameter shapes by network names. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly extra?: Readonly<Record<string, string>>;
  /** 'F32' (default) or 'F16'. */
  readonly dtype?: SafetensorsWriteDtype;
}

/**
 * Plans a model file (the bytes `writeModelFile` writes for the same tensors) from names and
 * shapes, so it can be written as a stream: `layout.header`, then `encodeModelFileTensor` of
 * each entry in `layout.entries` order. Metadata and names are validated here.
 */
export function modelFileLayout(parts: ModelFileLayoutParts): SafetensorsLayout {
  const metadata = modelMetadataEntries(parts.metadata, parts.extra ?? {});
  for (const name of parts.shapes.keys()) {
    if (name.startsWith(EMA_TENSOR_PREFIX) || name.startsWith(TRAINING_TENSOR_PREFIX)) {
      throw new DiffusionError(
        'invalid-argument',
        `writeModelFile: model tensor '${name}' must not start with '${EMA_TENSOR_PREFIX}' or '${TRAINING_TENSOR_PREFIX}'`,
      );
    }
  }
  return safetensorsLayout(parts.shapes, { dtype: parts.dtype ?? 'F32', metadata });
}

/** One tensor's bytes for a `modelFileLayout` entry: non-finite values refused (naming the tensor), then encoded as the layout's dtype. */
export function encodeModelFileTensor(layout: SafetensorsLayout, index: number, data: Float32Array): Uint8Array {
  const entry = layout.entries[index];
  if (!entry) throw new DiffusionError('invalid-argument', `encodeModelFileTensor: the layout has no entry ${index}`);
  if (data.length * (layout.dtype === 'F32' ? 4 : 2) !== entry.end - entry.begin) {
    throw new DiffusionError(
      'invalid-shape',
      `writeModelFile: tensor '${entry.name}' has shape [${entry.shape.join(', ')}] but ${data.length} values`,
    );
  }
  requireFinite(entry.name, data);
  const bytes = new Uint8Array(entry.end - entry.begin);
  encodeSafetensorsData(data, layout.dtype, bytes, 0);
  return bytes;
}

/** A model file whose header, metadata and tensor shapes are validated, with no tensor decoded yet (`readModelFileEntries`). */
export interface ModelFileEntries {
  readonly name: string;
  readonly metadata: ModelFileMetadata;
  readonly header: SafetensorsHeader;
  /** The model's tensors (network names), EMA tensors (null when none) and training state, as header entries. */
  readonly tensors: Map<string, SafetensorsEntry>;
  readonly emaTensors: Map<string, SafetensorsEntry> | null;
  readonly trainingTensors: Map<string, SafetensorsEntry>;
  readonly extra: Record<string, string>;
}

/** Keys that are not `extra`: format version 1's, and version 0's config, format and trainer. */
const RESERVED_METADATA_KEYS = new Set<string>([...MODEL_METADATA_KEYS, 'config', 'format', 'trainer']);

/**
 * Steps 1 to 4 of `parseModelFile` (header, metadata, which tensor is what, shapes against the
 * config) without decoding any tensor, so a loader can decode one tensor at a time
 * (`decodeModelFileTensor`) instead of holding the whole file as float32. `input` is the file's
 * bytes or a `ByteSource` (e.g. `fileByteSource` in Node: then only the header is read here).
 */
export function readModelFileEntries(
  input: Uint8Array | ByteSource,
  name: string,
  options: Pick<ParseModelFileOptions, 'expectedShapes'> = {},
): ModelFileEntries {
  // 1. Header: layout only, nothing decoded.
  const header = parseSafetensorsHeaderOf(input, name);
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
  return {
    name,
    metadata,
    header,
    tensors: model,
    emaTensors: ema.size > 0 ? ema : null,
    trainingTensors: state,
    extra: Object.fromEntries(Object.entries(header.metadata).filter(([key]) => !RESERVED_METADATA_KEYS.has(key))),
  };
}

/**
 * Decodes one tensor of `readModelFileEntries` to float32 (a new array), refusing non-finite values
 * with `invalid-checkpoint` naming the file and tensor; from a `ByteSource`, only its bytes are read.
 */
export function decodeModelFileTensor(input: Uint8Array | ByteSource, file: Pick<ModelFileEntries, 'header'>, entry: SafetensorsEntry): ParsedTensor {
  return decodeSafetensorsTensorOf(input, file.header, entry, true);
}

/**
 * Reads a model file (format version 1, or the CLI's earlier layout as version 0). Order matters:
 * header, then every metadata field (bounded), then tensor names and shapes against the config,
 * and only then decoding, which refuses non-finite values naming the tensor. Every error is
 * `DiffusionError('invalid-checkpoint')` naming `name`. `readModelFileEntries` does the same
 * without decoding, for loading one tensor at a time.
 */
export function parseModelFile(bytes: Uint8Array, name: string, options: ParseModelFileOptions = {}): ParsedModelFile {
  const file = readModelFileEntries(bytes, name, options);
  // 5. Decode, refusing non-finite values.
  const decode = (entries: Map<string, SafetensorsEntry>): Map<string, ParsedTensor> =>
    new Map([...entries].map(([key, entry]) => [key, decodeModelFileTensor(bytes, file, entry)]));
  return {
    name,
    metadata: file.metadata,
    tensors: decode(file.tensors),
    emaTensors: file.emaTensors ? decode(file.emaTensors) : null,
    trainingTensors: options.decode === 'model' ? new Map() : decode(file.trainingTensors),
    extra: file.extra,
  };
}
