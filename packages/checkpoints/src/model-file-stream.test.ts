import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { decodeModelFileTensor, encodeModelFileTensor, modelFileLayout, readModelFileEntries, writeModelFile } from './model-file.js';
import type { ModelFileMetadataInput } from './model-metadata.js';
import type { HostTensor } from './safetensors.js';
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
