import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeSafetensors } from './safetensors.js';
import { readTorchCheckpoint, readTorchWeights } from './torch-checkpoint.js';
import { fileByteSource } from './torch-file-source.js';
import { unpickleTorch } from './torch-pickle.js';
import { readZipEntries } from './torch-zip.js';
import { memoryByteSource } from './torch-byte-source.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./test-fixtures/${name}`, import.meta.url)));
/** base = arange(24).reshape(2, 3, 4) / 8 - 1, as scripts/torch-fixtures/make_reader_fixtures.py writes it. */
const base = Array.from({ length: 24 }, (_, index) => index / 8 - 1);

describe('readTorchCheckpoint', () => {
  it('reads F32, F16, BF16 and F64 storages, strided views and views at storage offsets', () => {
    const tensors = readTorchCheckpoint(fixture('state-dict.pt'));
    expect([...tensors.keys()]).toEqual([
      'conv.weight',
      'half.weight',
      'bfloat.weight',
      'double.bias',
      'transposed.weight',
      'shared.first',
      'shared.second',
      'scalar',
    ]);
    const conv = tensors.get('conv.weight');
    expect(conv?.dtype).toBe('F32');
    expect(conv?.shape).toEqual([2, 3, 4]);
    expect(Array.from(conv?.read() ?? [])).toEqual(base);
    expect(tensors.get('half.weight')?.dtype).toBe('F16');
    expect(Array.from(tensors.get('half.weight')?.read() ?? [])).toEqual(base.map((value) => value * 3));
    expect(Array.from(tensors.get('bfloat.weight')?.read() ?? [])).toEqual(base.map((value) => value * 5));
    expect(Array.from(tensors.get('double.bias')?.read() ?? [])).toEqual([0.1, -2.5, 3.25].map(Math.fround));
    // base.reshape(6, 4).t(): [4, 6] with strides (1, 4)
    const transposed = tensors.get('transposed.weight');
    expect(transposed?.shape).toEqual([4, 6]);
    const expected = Array.from({ length: 24 }, (_, index) => base[(index % 6) * 4 + Math.floor(index / 6)]);
    expect(Array.from(transposed?.read() ?? [])).toEqual(expected);
    expect(Array.from(tensors.get('shared.first')?.read() ?? [])).toEqual([2, 3, 4]);
    expect(Array.from(tensors.get('shared.second')?.read() ?? [])).toEqual([6, 7]);
    expect(tensors.get('scalar')?.shape).toEqual([]);
    expect(Array.from(tensors.get('scalar')?.read() ?? [])).toEqual([7.5]);
  });

  it('reads from a file handle range by range, and a state_dict nested under "state_dict"', () => {
    const source = fileByteSource(new URL('./test-fixtures/nested.pt', import.meta.url).pathname);
    try {
      const tensors = readTorchCheckpoint(source);
      expect(Array.from(tensors.get('conv.weight')?.read() ?? [])).toEqual(base);
    } finally {
      source.close();
    }
  });

  it('refuses a pickle that names any other global, without running it', () => {
    expect(() => readTorchCheckpoint(fixture('exploit.pt'))).toThrow(/refusing global posix\.system/);
  });

  it('names the legacy (pre-1.6) format and truncated or corrupt archives', () => {
    expect(() => readTorchCheckpoint(fixture('legacy.pt'))).toThrow(/not a zip archive.*legacy format/);
    // readTorchWeights tells a legacy pickle from a safetensors file instead of reading a header length
    expect(() => readTorchWeights(fixture('legacy.pt'), 'legacy.pt')).toThrow(/not a zip archive.*legacy format/);
    const bytes = fixture('state-dict.pt');
    expect(() => readTorchCheckpoint(bytes.subarray(0, bytes.length - 30))).toThrow(/invalid|zip|outside/);
    // a storage pointing past the end of the file: shrink the file by cutting bytes out of the middle
    const cut = new Uint8Array(bytes.length - 200);
    cut.set(bytes.subarray(0, 1000));
    cut.set(bytes.subarray(1200), 1000);
    expect(() => readTorchCheckpoint(cut)).toThrow(/outside|corrupt|truncated|bad local header/);
  });

  it('lists the stored members of the zip with bounds-checked offsets', () => {
    const entries = readZipEntries(memoryByteSource(fixture('state-dict.pt')));
    const names = [...entries.keys()];
    expect(names.some((name) => name.endsWith('/data.pkl'))).toBe(true);
    expect(names.filter((name) => /\/data\/\d+$/.test(name))).toHaveLength(7);
  });
});

describe('unpickleTorch', () => {
  it('refuses unknown opcodes and truncated input by name', () => {
    expect(() => unpickleTorch(new Uint8Array([0x80, 0x02, 0x49]))).toThrow(/unsupported opcode 0x49/);
    expect(() => unpickleTorch(new Uint8Array([0x80, 0x02, 0x58, 0xff]))).toThrow(/truncated/);
    // GLOBAL 'builtins\neval\n'
    const text = new TextEncoder().encode('cbuiltins\neval\n');
    expect(() => unpickleTorch(new Uint8Array([0x80, 0x02, ...text]))).toThrow(/refusing global builtins\.eval/);
  });
});

describe('readTorchWeights', () => {
  it('reads a safetensors file with the same names lazily', () => {
    const bytes = serializeSafetensors(new Map([['conv.weight', { shape: [2, 3, 4], data: new Float32Array(base) }]]), { dtype: 'F16' });
    const tensors = readTorchWeights(bytes);
    expect(tensors.get('conv.weight')?.dtype).toBe('F16');
    expect(Array.from(tensors.get('conv.weight')?.read() ?? [])).toEqual(base);
  });

  it('reads .pt and .safetensors from a ByteSource range by range: the header first, then only the tensor read', () => {
    const bytes = serializeSafetensors(
      new Map([
        ['conv.weight', { shape: [2, 3, 4], data: new Float32Array(base) }],
        ['conv.bias', { shape: [2], data: new Float32Array([0.5, -2]) }],
      ]),
      { dtype: 'F16' },
    );
    const reads: Array<[number, number]> = [];
    const inner = memoryByteSource(bytes);
    const source = { size: inner.size, read: (offset: number, length: number) => (reads.push([offset, length]), inner.read(offset, length)) };
    const tensors = readTorchWeights(source, 'ranges.safetensors');
    const headerEnd = reads[reads.length - 1] as [number, number];
    expect(reads.every(([offset]) => offset === 0)).toBe(true);
    reads.length = 0;
    expect(Array.from(tensors.get('conv.bias')?.read() ?? [])).toEqual([0.5, -2]);
    // conv.bias sorts first: its 4 bytes right after the header
    expect(reads).toEqual([[headerEnd[1], 4]]);
    expect(Array.from(tensors.get('conv.weight')?.read() ?? [])).toEqual(base);
    const pt = readTorchWeights(memoryByteSource(fixture('state-dict.pt')));
    expect(Array.from(pt.get('conv.weight')?.read() ?? [])).toEqual(base);
  });
});
