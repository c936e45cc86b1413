import { DiffusionError } from '@tfjs-diffusion/core';
import { type ByteSource, memoryByteSource } from './torch-byte-source.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from './float16.js';
import { decodeSafetensorsTensorOf, parseSafetensorsHeaderOf } from './safetensors-source.js';
import { type PickleValue, type TorchStorageDtype, type TorchTensorReference, unpickleTorch } from './torch-pickle.js';
import { type ZipEntry, readZipEntries } from './torch-zip.js';

/** One tensor of a checkpoint, decoded to float32 only when `read` is called (one at a time). */
export interface LazyTensor {
  /** Stored element type (F32, F16, BF16, F64; integer types cannot be read as weights). */
  readonly dtype: TorchStorageDtype | 'F32' | 'F16' | 'BF16';
  readonly shape: readonly number[];
  /** The values as float32, row-major; a new array on every call. */
  read(): Float32Array;
}

const ELEMENT_BYTES: Readonly<Record<TorchStorageDtype, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function product(shape: readonly number[]): number {
  return shape.reduce((total, size) => total * size, 1);
}

/** Decodes `count` little-endian elements of `dtype` to float32. */
function decodeElements(bytes: Uint8Array, dtype: TorchStorageDtype, count: number, name: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      if (littleEndianHost) {
        // a fresh buffer: `bytes` may be a view into a larger (or shared Node Buffer) allocation
        const copy = new Uint8Array(count * 4);
        copy.set(bytes.subarray(0, count * 4));
        return new Float32Array(copy.buffer);
      }
      for (let index = 0; index < count; index += 1) out[index] = view.getFloat32(4 * index, true);
      return out;
    case 'F16':
      for (let index = 0; index < count; index += 1) out[index] = float16BitsToFloat32(view.getUint16(2 * index, true));
      return out;
    case 'BF16':
      for (let index = 0; index < count; index += 1) out[index] = bfloat16BitsToFloat32(view.getUint16(2 * index, true));
      return out;
    case 'F64':
      for (let index = 0; index < count; index += 1) out[index] = view.getFloat64(8 * index, true);
      return out;
    default:
      throw new DiffusionError('invalid-checkpoint', `tensor ${name} holds ${dtype} integers, not floating-point weights`);
  }
}

/** True when `stride` is the row-major (C-contiguous) stride of `shape`; size-1 axes may have any stride. */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    if ((shape[axis] as number) !== 1 && stride[axis] !== expected) return false;
    expected *= shape[axis] as number;
  }
  return true;
}

function tensorFromReference(
  source: ByteSource,
  entries: Map<string, ZipEntry>,
  prefix: string,
  name: string,
  reference: TorchTensorReference,
): LazyTensor {
  const { storage, shape, stride, storageOffset } = reference;
  const entry = entries.get(`${prefix}data/${storage.key}`);
  if (!entry) throw new DiffusionError('invalid-checkpoint', `tensor ${name}: storage data/${storage.key} is missing from the archive`);
  const elementBytes = ELEMENT_BYTES[storage.dtype];
  if (entry.size !== storage.length * elementBytes) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `tensor ${name}: storage data/${storage.key} has ${entry.size} bytes, ${storage.length} ${storage.dtype} elements need ${storage.length * elementBytes}`,
    );
  }
  const count = product(shape);
  // the largest element index the view touches must lie inside the storage
  const last = count === 0 ? storageOffset : shape.reduce((sum, size, axis) => sum + (size - 1) * (stride[axis] as number), storageOffset);
  if (count > 0 && last >= storage.length) {
    throw new DiffusionError('invalid-checkpoint', `tensor ${name}: its view reaches element ${last} of a ${storage.length}-element storage`);
  }
  return {
    dtype: storage.dtype,
    shape,
    read() {
      if (isContiguous(shape, stride)) {
        return decodeElements(source.read(entry.dataOffset + storageOffset * elementBytes, count * elementBytes), storage.dtype, count, name);
      }
      // a strided view: decode the span it covers, then gather
      const span = last - storageOffset + 1;
      const values = decodeElements(source.read(entry.dataOffset + storageOffset * elementBytes, span * elementBytes), storage.dtype, span, name);
      const out = new Float32Array(count);
      const index = new Array<number>(shape.length).fill(0);
      for (let position = 0; position < count; position += 1) {
        let offset = 0;
        for (let axis = 0; axis < shape.length; axis += 1) offset += (index[axis] as number) * (stride[axis] as number);
        out[position] = values[offset] as number;
        for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
          index[axis] = (index[axis] as number) + 1;
          if ((index[axis] as number) < (shape[axis] as number)) break;
          index[axis] = 0;
        }
      }
      return out;
    },
  };
}

function isTensor(value: PickleValue): value is TorchTensorReference {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && (value as { kind?: string }).kind === 'tensor'
  );
}

/**
 * Reads a PyTorch checkpoint (torch >= 1.6 zip format: `<dir>/data.pkl`, a pickled state_dict,
 * plus one raw little-endian storage per `<dir>/data/<key>`) without Python: the zip directory is
 * read with bounds checks, `data.pkl` with a restricted unpickler that refuses any global beyond
 * what a state_dict needs, and each tensor is decoded (F32, F16, BF16, F64 to float32) only when
 * its `read()` is called. A top-level dict of tensors, or one under "state_dict", is accepted;
 * anything else that is not a tensor is an error naming its key.
 */
export function readTorchCheckpoint(input: ByteSource | Uint8Array, what = 'checkpoint'): Map<string, LazyTensor> {
  const source = input instanceof Uint8Array ? memoryByteSource(input) : input;
  const entries = readZipEntries(source, what);
  const pickles = [...entries.keys()].filter((name) => /^([^/]+\/)?data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw new DiffusionError('invalid-checkpoint', `${what}: expected one data.pkl in the archive, found ${pickles.length}`);
  }
  const pickleName = pickles[0] as string;
  const prefix = pickleName.slice(0, pickleName.length - 'data.pkl'.length);
  const pickleEntry = entries.get(pickleName) as ZipEntry;
  let root = unpickleTorch(source.read(pickleEntry.dataOffset, pickleEntry.size));
  if (root instanceof Map && root.has('state_dict') && root.get('state_dict') instanceof Map) root = root.get('state_dict') as PickleValue;
  if (!(root instanceof Map)) throw new DiffusionError('invalid-checkpoint', `${what}: data.pkl does not hold a dict of tensors (a state_dict)`);
  const tensors = new Map<string, LazyTensor>();
  for (const [key, value] of root) {
    if (typeof key !== 'string') throw new DiffusionError('invalid-checkpoint', `${what}: state_dict key ${JSON.stringify(key)} is not a string`);
    if (!isTensor(value)) throw new DiffusionError('invalid-checkpoint', `${what}: state_dict entry ${key} is not a tensor`);
    tensors.set(key, tensorFromReference(source, entries, prefix, key, value));
  }
  return tensors;
}

/**
 * The tensors of a safetensors file (e.g. a state_dict saved with safetensors' save_file) as
 * `LazyTensor`s under their stored names: the header is validated now, each tensor decoded when
 * read. From a `ByteSource` (Node: `fileByteSource`), only the header and each tensor read are read.
 */
export function lazySafetensors(input: Uint8Array | ByteSource, what = 'checkpoint'): Map<string, LazyTensor> {
  const header = parseSafetensorsHeaderOf(input, what);
  const tensors = new Map<string, LazyTensor>();
  for (const entry of header.entries) {
    tensors.set(entry.name, { dtype: entry.dtype, shape: [...entry.shape], read: () => decodeSafetensorsTensorOf(input, header, entry).data });
  }
  return tensors;
}

/**
 * Reads PyTorch weights from either a `.pt` (zip) or a `.safetensors` file, told apart by their
 * first bytes (a zip starts with "PK"), as lazily decoded tensors by state_dict name; from a
 * `ByteSource`, the file is read range by range, never whole.
 */
export function readTorchWeights(input: Uint8Array | ByteSource, what = 'checkpoint'): Map<string, LazyTensor> {
  const start = input instanceof Uint8Array ? input.subarray(0, 9) : input.read(0, Math.min(9, input.size));
  if (start.length >= 4 && start[0] === 0x50 && start[1] === 0x4b) return readTorchCheckpoint(input, what);
  // a safetensors file: 8-byte header length, then the JSON header's '{'
  if (start.length === 9 && start[8] === 0x7b) return lazySafetensors(input, what);
  // a pickle stream (PROTO opcode 0x80): torch.save's legacy (pre-1.6) format, named by readTorchCheckpoint
  if (start[0] === 0x80) return readTorchCheckpoint(input, what);
  return lazySafetensors(input, what);
}
