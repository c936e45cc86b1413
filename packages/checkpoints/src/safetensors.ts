import { DiffusionError } from '@tfjs-diffusion/core';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from './float16.js';
import { findDuplicateJsonKey } from './json-duplicate-keys.js';
import { MAX_HEADER_BYTES, checkTensorEntry, encodeSafetensorsData, safetensorsLayout, type SafetensorsWriteDtype } from './safetensors-layout.js';

export { MAX_HEADER_BYTES, type SafetensorsWriteDtype };
/** The dtypes read by `parseSafetensors` (all decoded to float32). */
export type SafetensorsReadDtype = 'F32' | 'F16' | 'BF16';

/** A float32 tensor on the host: row-major `data` with as many elements as the product of `shape`. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A tensor read from a file: its stored dtype, its shape and its values decoded to float32. */
export interface ParsedTensor extends HostTensor {
  readonly dtype: SafetensorsReadDtype;
  readonly shape: number[];
}

/** What `parseSafetensors` returns: tensors by name (in data-buffer order) and the `__metadata__` strings. */
export interface ParsedSafetensors {
  readonly tensors: Map<string, ParsedTensor>;
  readonly metadata: Record<string, string>;
}

/** Options of `serializeSafetensors`. */
export interface SerializeOptions {
  /** Storage dtype: 'F32' is exact, 'F16' rounds to nearest even (overflow to ±inf). */
  readonly dtype: SafetensorsWriteDtype;
  /** String metadata stored under `__metadata__` (see `checkpointMetadata`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The deepest JSON nesting a header may have (a safetensors header needs 3: header, entry, shape). */
export const MAX_HEADER_NESTING = 64;

const METADATA_KEY = '__metadata__';
const READ_DTYPE_BYTES: Readonly<Record<SafetensorsReadDtype, number>> = { F32: 4, F16: 2, BF16: 2 };
/** dtypes of the safetensors spec that this package does not decode (named apart in the error). */
const UNSUPPORTED_DTYPES = new Set([
  'BOOL',
  'U8',
  'I8',
  'I16',
  'U16',
  'I32',
  'U32',
  'I64',
  'U64',
  'F64',
  'C64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
]);

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes float32 host tensors as a safetensors file (huggingface/safetensors layout: u64 LE header
 * length, JSON header padded with spaces to 8 bytes, contiguous little-endian data in sorted-name order).
 * `safetensorsLayout` plans the same bytes from names and shapes, for writing tensor by tensor.
 */
export function serializeSafetensors(tensors: ReadonlyMap<string, HostTensor>, options: SerializeOptions): Uint8Array {
  const dtype = options?.dtype;
  if (dtype !== 'F32' && dtype !== 'F16') {
    throw new DiffusionError('invalid-argument', `serializeSafetensors: dtype must be 'F32' or 'F16', got ${JSON.stringify(dtype)}`);
  }
  // 1. Validate every tensor, then plan the header and the spans.
  const shapes = new Map<string, readonly number[]>();
  for (const [name, tensor] of tensors.entries()) {
    const count = checkTensorEntry(name, tensor?.shape);
    if (!(tensor.data instanceof Float32Array)) {
      throw new DiffusionError('invalid-argument', `serializeSafetensors: tensor '${name}' data must be a Float32Array`);
    }
    if (count !== tensor.data.length) {
      throw new DiffusionError(
        'invalid-shape',
        `serializeSafetensors: tensor '${name}' has shape [${tensor.shape.join(', ')}] (${count} elements) but ${tensor.data.length} values`,
      );
    }
    shapes.set(name, tensor.shape);
  }
  const layout = safetensorsLayout(shapes, options);
  // 2. [header][data in the layout's order].
  const bytes = new Uint8Array(layout.byteLength);
  bytes.set(layout.header);
  for (const entry of layout.entries) {
    encodeSafetensorsData((tensors.get(entry.name) as HostTensor).data, dtype, bytes, layout.header.length + entry.begin);
  }
  return bytes;
}

/** One tensor entry of a safetensors header: its dtype, shape and byte span in the data buffer. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsReadDtype;
  readonly shape: number[];
  /** Byte offsets [begin, end) relative to the start of the data buffer. */
  readonly begin: number;
  readonly end: number;
}

/** What `parseSafetensorsHeader` returns: the validated header, nothing of the data decoded yet. */
export interface SafetensorsHeader {
  readonly fileName: string;
  /** Entries in data-buffer order. */
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + header length). */
  readonly dataStart: number;
}

/**
 * Validates a safetensors file's header (huggingface/safetensors layout) without decoding any tensor:
 * the header length, UTF-8, JSON, repeated keys, dtypes, shapes and that the byte spans tile the data
 * buffer exactly. Every defect throws `DiffusionError('invalid-checkpoint')` naming `fileName`.
 * `bytes` may be only the start of a file of `fileSize` bytes (the length prefix and the header).
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileName = '<memory>', fileSize = bytes?.length): SafetensorsHeader {
  const fail = (problem: string, cause?: unknown): never => {
    throw new DiffusionError('invalid-checkpoint', `${fileName}: ${problem}`, cause === undefined ? undefined : { cause });
  };
  if (!(bytes instanceof Uint8Array)) {
    throw new DiffusionError('invalid-argument', `parseSafetensors: ${fileName}: bytes must be a Uint8Array`);
  }

  // 1. Header length: u64 little-endian, bounded by the file and by MAX_HEADER_BYTES (printed as an exact integer).
  // (`fileSize`: the file's length when `bytes` holds only its start, at least the length prefix and the header)
  if (fileSize < 8 || bytes.length < 8) fail(`file is ${fileSize} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const exactHeaderLength = view.getBigUint64(0, true);
  if (exactHeaderLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${exactHeaderLength.toString()} exceeds the ${MAX_HEADER_BYTES}-byte bound`);
  const headerLength = Number(exactHeaderLength);
  if (headerLength > fileSize - 8) {
    fail(
      `header length ${headerLength} exceeds the file size (${fileSize - 8} bytes after the length prefix); the file is truncated or not safetensors`,
    );
  }
  if (headerLength > bytes.length - 8) fail(`only ${bytes.length - 8} of the header's ${headerLength} bytes were read`);

  // 2. Header text: strict UTF-8, bounded nesting, JSON, an object, no repeated keys.
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch (error) {
    fail('header is not valid UTF-8', error);
  }
  const depth = jsonNestingDepth(text);
  if (depth > MAX_HEADER_NESTING) fail(`header JSON nests ${depth} levels deep (a safetensors header has at most ${MAX_HEADER_NESTING})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`, error);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`header must be a JSON object, got ${describe(header)}`);
  }
  const duplicate = findDuplicateJsonKey(text);
  if (duplicate) {
    if (duplicate.depth === 1) fail(`duplicate tensor name '${duplicate.key}' in the header`);
    fail(`duplicate key '${duplicate.key}' in header entry '${duplicate.parentKey ?? '?'}'`);
  }

  // 3. Entries: metadata, then each tensor's dtype, shape and byte span.
  const bufferStart = 8 + headerLength;
  const bufferLength = fileSize - bufferStart;
  let metadata: Record<string, string> = {};
  const infos: SafetensorsEntry[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        fail(`__metadata__ must be an object of strings, got ${describe(entry)}`);
      }
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__ entry '${key}' must be a string, got ${describe(value)}`);
      }
      metadata = Object.fromEntries(Object.entries(entry as Record<string, string>));
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      fail(`entry '${name}' must be an object with dtype, shape and data_offsets, got ${describe(entry)}`);
    }
    const record = entry as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!(field in record)) fail(`entry '${name}' is missing '${field}'`);
    }
    const { dtype, shape, data_offsets: offsets } = record;
    if (typeof dtype !== 'string') fail(`entry '${name}' dtype must be a string, got ${describe(dtype)}`);
    if (!Object.hasOwn(READ_DTYPE_BYTES, dtype as string)) {
      if (UNSUPPORTED_DTYPES.has(dtype as string)) {
        fail(`tensor '${name}' has dtype '${String(dtype)}', which is not supported (supported: F32, F16, BF16)`);
      }
      fail(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && (size as number) >= 0)) {
      fail(`tensor '${name}' shape must be an array of non-negative integers, got ${abbreviate(JSON.stringify(shape))}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0)) {
      fail(`tensor '${name}' data_offsets must be two non-negative integers [begin, end], got ${abbreviate(JSON.stringify(offsets))}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`tensor '${name}' data_offsets [${begin}, ${end}] have begin > end`);
    if (end > bufferLength) {
      fail(`tensor '${name}' data_offsets [${begin}, ${end}] lie outside the file (data buffer is ${bufferLength} bytes)`);
    }
    const typedDtype = dtype as SafetensorsReadDtype;
    const elementBytes = READ_DTYPE_BYTES[typedDtype];
    const count = elementCount(shape as number[]);
    if (count === null || count * elementBytes !== end - begin) {
      fail(
        `tensor '${name}' has shape [${(shape as number[]).join(', ')}] and dtype ${typedDtype} ` +
          `(${count === null ? 'too many' : count} elements x ${elementBytes} bytes) but data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
      );
    }
    infos.push({ name, dtype: typedDtype, shape: [...(shape as number[])], begin, end });
  }

  // 4. The spans must tile the data buffer exactly: no holes, no overlaps, no trailing bytes.
  const ordered = [...infos].sort((left, right) => left.begin - right.begin || left.end - right.end);
  let expected = 0;
  let previous: string | null = null;
  for (const info of ordered) {
    if (info.begin > expected) {
      fail(`hole in the data buffer: bytes [${expected}, ${info.begin}) before tensor '${info.name}' belong to no tensor`);
    }
    if (info.begin < expected) {
      fail(`tensor '${info.name}' data_offsets [${info.begin}, ${info.end}] overlap tensor '${previous ?? '?'}' (which ends at ${expected})`);
    }
    expected = info.end;
    previous = info.name;
  }
  if (expected !== bufferLength) {
    fail(`${bufferLength - expected} trailing bytes after the last tensor (tensors cover ${expected} of ${bufferLength} data bytes)`);
  }
  return { fileName, entries: ordered, metadata, dataStart: bufferStart };
}

/**
 * Decodes one tensor of a header from `parseSafetensorsHeader` to float32 (a copy: never aliases
 * `bytes`). With `requireFinite`, a NaN or infinite value throws `invalid-checkpoint` naming the tensor.
 */
export function decodeSafetensorsTensor(bytes: Uint8Array, header: SafetensorsHeader, entry: SafetensorsEntry, requireFinite = false): ParsedTensor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = header.dataStart + entry.begin;
  const count = (entry.end - entry.begin) / READ_DTYPE_BYTES[entry.dtype];
  let data: Float32Array;
  if (entry.dtype === 'F32') {
    if (littleEndianHost) {
      // Copy through a fresh buffer: `bytes` may be a Node Buffer, whose slice() is a view on a shared pool.
      const copy = new Uint8Array(count * 4);
      copy.set(bytes.subarray(start, start + count * 4));
      data = new Float32Array(copy.buffer);
    } else {
      data = new Float32Array(count);
      for (let index = 0; index < count; index += 1) data[index] = view.getFloat32(start + index * 4, true);
    }
  } else {
    const decode = entry.dtype === 'F16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
    data = new Float32Array(count);
    for (let index = 0; index < count; index += 1) data[index] = decode(view.getUint16(start + index * 2, true));
  }
  if (requireFinite) {
    for (let index = 0; index < count; index += 1) {
      if (!Number.isFinite(data[index] as number)) {
        throw new DiffusionError(
          'invalid-checkpoint',
          `${header.fileName}: tensor '${entry.name}' holds a non-finite value (${String(data[index])} at flat index ${index}); the weights are corrupt`,
        );
      }
    }
  }
  return { dtype: entry.dtype, shape: [...entry.shape], data };
}

/**
 * Decodes and strictly validates a safetensors file (F32, F16, BF16 -> float32); every defect throws
 * `DiffusionError('invalid-checkpoint')` naming `fileName` and the problem.
 */
export function parseSafetensors(bytes: Uint8Array, fileName = '<memory>'): ParsedSafetensors {
  const header = parseSafetensorsHeader(bytes, fileName);
  const tensors = new Map<string, ParsedTensor>();
  for (const entry of header.entries) tensors.set(entry.name, decodeSafetensorsTensor(bytes, header, entry));
  return { tensors, metadata: header.metadata };
}

/** The deepest nesting of objects and arrays in a JSON text, found iteratively (strings skipped). */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let position = 0; position < text.length; position += 1) {
    const character = text.charCodeAt(position);
    if (inString) {
      if (character === 0x5c /* backslash */) position += 1;
      else if (character === 0x22 /* " */) inString = false;
    } else if (character === 0x22) {
      inString = true;
    } else if (character === 0x7b || character === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (character === 0x7d || character === 0x5d) {
      depth -= 1;
    }
  }
  return deepest;
}

function elementCount(shape: readonly number[]): number | null {
  if (shape.includes(0)) return 0;
  let count = 1;
  for (const size of shape) {
    count *= size;
    if (count > Number.MAX_SAFE_INTEGER) return null;
  }
  return count;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${abbreviate(JSON.stringify(value))}`;
}

function abbreviate(text: string | undefined): string {
  if (text === undefined) return 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
