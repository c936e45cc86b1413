import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { decodeModelFileTensor, encodeModelFileTensor, modelFileLayout, readModelFileEntries, writeModelFile } from './model-file.js';
import type { ModelFileMetadataInput } from './model-metadata.js';
import type { HostTensor } from './safetensors.js';
import { memoryByteSource, type ByteSource } from './torch-byte-source.js';
import { writeFileStreamAtomically } from './write-file-stream.js';

const metadata: ModelFileMetadataInput = {
  network: { type: 'unet', imageSize: 8, inChannels: 1, modelChannels: 4, prediction: 'epsilon', variance: 'fixed-large' },
  schedule: { kind: 'cosine', timesteps: 50 },
  prediction: 'epsilon',
  variance: 'fixed-large',
  conditioning: null,
  data: { shape: [8, 8, 1], range: [-1, 1] },
  weights: 'ema',
};
// names out of order (and an integer-like one) so the layout's sorting matters
const tensors = new Map<string, HostTensor>([
  ['out.weight', { shape: [3, 3, 4, 1], data: Float32Array.from({ length: 36 }, (_, index) => Math.sin(index) * 3) }],
  ['10', { shape: [2], data: new Float32Array([0.1, -65504]) }],
  ['conv.bias', { shape: [4], data: new Float32Array([1, 2.5, 3, 1e-3]) }],
]);
const directory = mkdtempSync(join(tmpdir(), 'model-file-stream-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The file written tensor by tensor from the layout. */
function streamed(dtype: 'F32' | 'F16'): Uint8Array {
  const layout = modelFileLayout({
    metadata,
    shapes: new Map([...tensors].map(([name, tensor]) => [name, tensor.shape])),
    extra: { command: 'test' },
    dtype,
  });
  const chunks = [
    layout.header,
    ...layout.entries.map((entry, index) => encodeModelFileTensor(layout, index, (tensors.get(entry.name) as HostTensor).data)),
  ];
  const bytes = new Uint8Array(layout.byteLength);
  let position = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, position);
    position += chunk.length;
  }
  expect(position).toBe(layout.byteLength);
  return bytes;
}

describe('modelFileLayout + encodeModelFileTensor (a model file written as a stream)', () => {
  it('writes byte for byte what writeModelFile writes, in F32 and F16', () => {
    for (const dtype of ['F32', 'F16'] as const) {
      expect(streamed(dtype)).toEqual(writeModelFile({ metadata, tensors, extra: { command: 'test' }, dtype }));
    }
  });

  it('refuses a non-finite value naming the tensor, a wrong value count and reserved name prefixes', () => {
    const layout = modelFileLayout({ metadata, shapes: new Map([['conv.bias', [4]]]) });
    expect(() => encodeModelFileTensor(layout, 0, new Float32Array([1, Number.NaN, 0, 0]))).toThrow(
      /tensor 'conv.bias' holds a non-finite value \(NaN at flat index 1\)/,
    );
    expect(() => encodeModelFileTensor(layout, 0, new Float32Array(3))).toThrow(/tensor 'conv.bias' has shape \[4\] but 3 values/);
    expect(() => modelFileLayout({ metadata, shapes: new Map([['ema.conv.bias', [4]]]) })).toThrow(DiffusionError);
  });

  it('reads back tensor by tensor with readModelFileEntries + decodeModelFileTensor', () => {
    const bytes = streamed('F32');
    const file = readModelFileEntries(bytes, 'streamed.safetensors');
    expect([...file.tensors.keys()].sort()).toEqual(['10', 'conv.bias', 'out.weight']);
    expect(file.extra).toEqual({ command: 'test' });
    const entry = file.tensors.get('out.weight');
    expect(entry).toBeDefined();
    expect(Array.from(decodeModelFileTensor(bytes, file, entry as NonNullable<typeof entry>).data)).toEqual(
      Array.from(tensors.get('out.weight')?.data ?? []),
    );
  });
});

describe('readModelFileEntries and decodeModelFileTensor from a ByteSource (a file read by ranges)', () => {
  /** A source over `bytes` that records each range read. */
  const recorded = (bytes: Uint8Array, reads: Array<[number, number]>): ByteSource => {
    const inner = memoryByteSource(bytes);
    return {
      size: inner.size,
      read(offset, length) {
        reads.push([offset, length]);
        return inner.read(offset, length);
      },
    };
  };

  it('reads only the header, then only the bytes of the tensor asked for; the values equal the in-memory ones', () => {
    const bytes = streamed('F16');
    const reads: Array<[number, number]> = [];
    const source = recorded(bytes, reads);
    const file = readModelFileEntries(source, 'ranges.safetensors');
    const inMemory = readModelFileEntries(bytes, 'ranges.safetensors');
    expect(file.metadata).toEqual(inMemory.metadata);
    // the length prefix, then the prefix and the header: no tensor data
    expect(reads).toEqual([
      [0, 8],
      [0, file.header.dataStart],
    ]);
    reads.length = 0;
    const entry = file.tensors.get('out.weight') as NonNullable<ReturnType<typeof file.tensors.get>>;
    const fromSource = decodeModelFileTensor(source, file, entry);
    expect(reads).toEqual([[file.header.dataStart + entry.begin, entry.end - entry.begin]]);
    expect(Array.from(fromSource.data)).toEqual(Array.from(decodeModelFileTensor(bytes, inMemory, entry).data));
  });

  it('names a truncated file and a non-finite tensor as the in-memory reader does', () => {
    const bytes = streamed('F32');
    const truncated = bytes.subarray(0, bytes.length - 4);
    expect(() => readModelFileEntries(memoryByteSource(truncated), 'cut.safetensors')).toThrow(/cut.safetensors: .*lie outside the file/);
    const header = memoryByteSource(bytes.subarray(0, 8));
    expect(() => readModelFileEntries(header, 'short.safetensors')).toThrow(/short.safetensors: header length \d+ exceeds the file size \(0 bytes/);
    const file = readModelFileEntries(bytes, 'nan.safetensors');
    const entry = file.tensors.get('conv.bias') as NonNullable<ReturnType<typeof file.tensors.get>>;
    const broken = Uint8Array.from(bytes);
    new DataView(broken.buffer).setFloat32(file.header.dataStart + entry.begin + 8, Number.NaN, true);
    expect(() => decodeModelFileTensor(memoryByteSource(broken), file, entry)).toThrow(
      /nan.safetensors: tensor 'conv.bias' holds a non-finite value \(NaN at flat index 2\)/,
    );
  });
});

describe('writeFileStreamAtomically', () => {
  it('writes the chunks in order and returns what fill returns', () => {
    const path = join(directory, 'model.safetensors');
    const result = writeFileStreamAtomically(path, (write) => {
      write(new Uint8Array([1, 2, 3]));
      write(new Uint8Array([4]));
      return 'done';
    });
    expect(result).toBe('done');
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3, 4]);
  });

  it('keeps the previous file and leaves no temporary file when fill throws', () => {
    const path = join(directory, 'kept.safetensors');
    writeFileSync(path, 'previous');
    expect(() =>
      writeFileStreamAtomically(path, (write) => {
        write(new Uint8Array([9, 9]));
        throw new DiffusionError('invalid-checkpoint', 'tensor 3 is corrupt');
      }),
    ).toThrow(/tensor 3 is corrupt/);
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });
});
