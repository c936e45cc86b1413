import { DiffusionError } from '@tfjs-diffusion/core';
import { float32ToFloat16Bits } from './float16.js';

/** The reference implementation's bound on the JSON header (safetensors MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

/** The dtypes written by `serializeSafetensors` and `safetensorsLayout`. */
export type SafetensorsWriteDtype = 'F32' | 'F16';

/** One tensor of a layout: its name, shape and byte span [begin, end) in the data buffer. */
export interface SafetensorsLayoutEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * A safetensors file planned from names and shapes alone, so that it can be written as a stream:
 * `header` first, then each entry's encoded data in `entries` order (nothing else held).
 */
export interface SafetensorsLayout {
  readonly dtype: SafetensorsWriteDtype;
  /** [u64 LE header length][JSON header, space padded to 8 bytes]. */
  readonly header: Uint8Array;
  /** Entries in data order: sorted by the UTF-8 bytes of their names, as Rust sorts Strings. */
  readonly entries: readonly SafetensorsLayoutEntry[];
  /** The whole file: header plus data. */
  readonly byteLength: number;
}

const METADATA_KEY = '__metadata__';
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws unless `name` may name a tensor and `shape` is a list of non-negative safe integers; returns the element count. */
export function checkTensorEntry(name: string, shape: unknown): number {
  if (typeof name !== 'string' || name.length === 0 || name === METADATA_KEY) {
    throw new DiffusionError('invalid-argument', `serializeSafetensors: tensor name ${JSON.stringify(name)} is not allowed`);
  }
  if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && (size as number) >= 0)) {
    throw new DiffusionError('invalid-shape', `serializeSafetensors: tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  return (shape as number[]).reduce((product, size) => product * size, 1);
}

/**
 * Plans a safetensors file (huggingface/safetensors layout: u64 LE header length, JSON header
 * padded with spaces to 8 bytes, contiguous little-endian data in sorted-name order) from tensor
 * names and shapes: the header bytes and each tensor's span, no tensor data needed.
 */
export function safetensorsLayout(
  shapes: ReadonlyMap<string, readonly number[]>,
  options: { readonly dtype: SafetensorsWriteDtype; readonly metadata?: Readonly<Record<string, string>> },
): SafetensorsLayout {
  const dtype = options?.dtype;
  if (dtype !== 'F32' && dtype !== 'F16') {
    throw new DiffusionError('invalid-argument', `serializeSafetensors: dtype must be 'F32' or 'F16', got ${JSON.stringify(dtype)}`);
  }
  const elementBytes = dtype === 'F32' ? 4 : 2;
  const encoder = new TextEncoder();
  // 1. Validate, then order by name (UTF-8 byte order).
  const named = [...shapes.entries()].map(([name, shape]) => ({
    name,
    key: encoder.encode(name),
    shape: [...shape],
    count: checkTensorEntry(name, shape),
  }));
  named.sort((left, right) => compareBytes(left.key, right.key));
  // 2. Header JSON, written by hand so that key order is ours (JS objects put integer-like keys first).
  const parts: string[] = [];
  if (options.metadata !== undefined) {
    const metadataParts = Object.keys(options.metadata)
      .sort()
      .map((key) => {
        const value = (options.metadata as Record<string, unknown>)[key];
        if (typeof value !== 'string') {
          throw new DiffusionError('invalid-argument', `serializeSafetensors: metadata '${key}' must be a string, got ${typeof value}`);
        }
        return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
      });
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${metadataParts.join(',')}}`);
  }
  let offset = 0;
  const entries: SafetensorsLayoutEntry[] = [];
  for (const entry of named) {
    const end = offset + entry.count * elementBytes;
    parts.push(`${JSON.stringify(entry.name)}:{"dtype":"${dtype}","shape":[${entry.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    entries.push({ name: entry.name, shape: entry.shape, begin: offset, end });
    offset = end;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new DiffusionError('invalid-argument', `serializeSafetensors: header of ${headerLength} bytes exceeds the ${MAX_HEADER_BYTES}-byte bound`);
  }
  // 3. [u64 LE header length][header, space padded]
  const header = new Uint8Array(8 + headerLength);
  const view = new DataView(header.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.length);
  return { dtype, header, entries, byteLength: header.length + offset };
}

/** Encodes float32 values as the little-endian `dtype` of a safetensors data buffer (F16 rounds to nearest even), into `target` at `offset`. */
export function encodeSafetensorsData(data: Float32Array, dtype: SafetensorsWriteDtype, target: Uint8Array, offset: number): void {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  if (dtype === 'F32') {
    if (littleEndianHost) target.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    else data.forEach((value, index) => view.setFloat32(offset + index * 4, value, true));
  } else {
    data.forEach((value, index) => view.setUint16(offset + index * 2, float32ToFloat16Bits(value), true));
  }
}

function compareBytes(left: Uint8Array, right: Uint8Array): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (left[index] as number) - (right[index] as number);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}
