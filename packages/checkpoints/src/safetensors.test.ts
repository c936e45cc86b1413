import { describe, expect, it } from 'vitest';
import { DiffusionError, createNoiseSource } from '@tfjs-diffusion/core';
import { MAX_HEADER_BYTES, parseSafetensors, serializeSafetensors, type HostTensor } from './safetensors.js';

const encoder = new TextEncoder();

/** Builds a file by hand: u64 LE header length, the header bytes, the data buffer. */
function buildFile(header: string | Uint8Array, data: Uint8Array | number = 0, headerLength?: number): Uint8Array {
  const headerBytes = typeof header === 'string' ? encoder.encode(header) : header;
  const buffer = typeof data === 'number' ? new Uint8Array(data) : data;
  const bytes = new Uint8Array(8 + headerBytes.length + buffer.length);
  const view = new DataView(bytes.buffer);
  const length = headerLength ?? headerBytes.length;
  view.setUint32(0, length % 2 ** 32, true);
  view.setUint32(4, Math.floor(length / 2 ** 32), true);
  bytes.set(headerBytes, 8);
  bytes.set(buffer, 8 + headerBytes.length);
  return bytes;
}

function expectInvalid(bytes: Uint8Array, fragment: string | RegExp, fileName = 'model.safetensors'): void {
  let caught: unknown;
  try {
    parseSafetensors(bytes, fileName);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error mentioning ${String(fragment)}`).toBeInstanceOf(DiffusionError);
  const error = caught as DiffusionError;
  expect(error.code).toBe('invalid-checkpoint');
  expect(error.message).toContain(fileName);
  if (typeof fragment === 'string') expect(error.message).toContain(fragment);
  else expect(error.message).toMatch(fragment);
}

const tensor = (shape: number[], values: number[]): HostTensor => ({ shape, data: new Float32Array(values) });

describe('serializeSafetensors / parseSafetensors round trips', () => {
  it('round-trips F32 bit-exactly, including special values, scalars and empty tensors', () => {
    const weird = new Float32Array([0, -0, 1.5, -1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN, 1 / 3]);
    const tensors = new Map<string, HostTensor>([
      ['layer.weight', { shape: [3, 3], data: weird }],
      ['scalar', tensor([], [42])],
      ['empty', tensor([0, 5], [])],
    ]);
    const bytes = serializeSafetensors(tensors, { dtype: 'F32', metadata: { format: 'pt', note: 'ü' } });
    expect((8 + new DataView(bytes.buffer).getUint32(0, true)) % 8).toBe(0);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'ü' });
    expect([...parsed.tensors.keys()]).toEqual(['empty', 'layer.weight', 'scalar']);
    const weight = parsed.tensors.get('layer.weight');
    expect(weight?.dtype).toBe('F32');
    expect(weight?.shape).toEqual([3, 3]);
    expect(new Uint32Array(weight!.data.buffer)).toEqual(new Uint32Array(weird.buffer));
    expect(parsed.tensors.get('scalar')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([42]) });
    expect(parsed.tensors.get('empty')?.shape).toEqual([0, 5]);
    expect(parsed.tensors.get('empty')?.data.length).toBe(0);
  });

  it('round-trips F16 within half precision and exactly on representable values', () => {
    const noise = createNoiseSource('f16-round-trip');
    const random = noise.normal([1000]);
    const representable = new Float32Array([
      0,
      -0,
      1,
      -2,
      65504,
      -65504,
      2 ** -24,
      -(2 ** -24),
      1023 * 2 ** -24,
      2 ** -14,
      Infinity,
      -Infinity,
      0.099975585937,
    ]);
    const bytes = serializeSafetensors(
      new Map([
        ['random', { shape: [10, 100], data: random }],
        ['exact', { shape: [representable.length], data: representable }],
      ]),
      { dtype: 'F16' },
    );
    const parsed = parseSafetensors(bytes);
    const decoded = parsed.tensors.get('random')!;
    expect(decoded.dtype).toBe('F16');
    expect(decoded.shape).toEqual([10, 100]);
    random.forEach((value, index) => {
      expect(Math.abs((decoded.data[index] as number) - value)).toBeLessThanOrEqual(Math.max(Math.abs(value) * 2 ** -11, 2 ** -25));
    });
    const exact = parsed.tensors.get('exact')!.data;
    representable.forEach((value, index) => expect(Object.is(exact[index], value), `${value}`).toBe(true));
    expect(parseSafetensors(bytes).metadata).toEqual({});
  });

  it('is deterministic: names sorted by UTF-8 bytes whatever the insertion order', () => {
    const entries: [string, HostTensor][] = [
      ['b', tensor([1], [1])],
      ['10', tensor([1], [2])],
      ['2', tensor([1], [3])],
      ['a', tensor([2], [4, 5])],
    ];
    const forward = serializeSafetensors(new Map(entries), { dtype: 'F32', metadata: { z: '1', a: '2' } });
    const backward = serializeSafetensors(new Map([...entries].reverse()), { dtype: 'F32', metadata: { a: '2', z: '1' } });
    expect(backward).toEqual(forward);
    expect([...parseSafetensors(forward).tensors.keys()]).toEqual(['10', '2', 'a', 'b']);
  });

  it('writes exactly the bytes of the reference implementation and reads its files', () => {
    // What Python `safetensors.torch.save_file({"weight": torch.tensor([1.0, 2.0])}, "f", {"format": "pt"})`
    // writes: compact JSON, __metadata__ first, tensors in data order, header space-padded to 8 bytes.
    const json = '{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(json.length).toBe(90);
    const header = json + ' '.repeat(6); // 96 bytes
    const expected = new Uint8Array([
      96,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...encoder.encode(header),
      0x00,
      0x00,
      0x80,
      0x3f, // 1.0f LE
      0x00,
      0x00,
      0x00,
      0x40, // 2.0f LE
    ]);
    const written = serializeSafetensors(new Map([['weight', tensor([2], [1, 2])]]), { dtype: 'F32', metadata: { format: 'pt' } });
    expect(written).toEqual(expected);
    const parsed = parseSafetensors(expected, 'reference.safetensors');
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.tensors.get('weight')).toEqual({ dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) });

    // F16 and BF16 tensors as torch writes them (torch.float16 / torch.bfloat16), no metadata.
    const halfJson = '{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1,2],"data_offsets":[4,8]}}';
    const halfHeader = halfJson + ' '.repeat((8 - (halfJson.length % 8)) % 8);
    const halfFile = new Uint8Array([
      halfHeader.length,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...encoder.encode(halfHeader),
      0x80,
      0x3f,
      0x20,
      0xc0, // bf16 1.0, -2.5
      0x00,
      0x3c,
      0x00,
      0xc2, // f16 1.0, -3.0
    ]);
    const half = parseSafetensors(halfFile);
    expect(half.tensors.get('a')).toEqual({ dtype: 'BF16', shape: [2], data: new Float32Array([1, -2.5]) });
    expect(half.tensors.get('b')).toEqual({ dtype: 'F16', shape: [1, 2], data: new Float32Array([1, -3]) });
    expect(serializeSafetensors(new Map([['b', tensor([1, 2], [1, -3])]]), { dtype: 'F16' }).slice(-4)).toEqual(
      new Uint8Array([0x00, 0x3c, 0x00, 0xc2]),
    );
  });

  it('copies data out of a Node Buffer view (non-zero byteOffset, shared pool)', () => {
    const bytes = serializeSafetensors(new Map([['w', tensor([3], [1, 2, 3])]]), { dtype: 'F32' });
    const pooled = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(bytes)]).subarray(3);
    const data = parseSafetensors(pooled).tensors.get('w')!.data;
    expect(data).toEqual(new Float32Array([1, 2, 3]));
    expect(data.buffer.byteLength).toBe(12);
  });

  it('accepts unaligned tensor offsets and a header that is not padded', () => {
    const bytes = buildFile(
      '{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"y":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}',
      new Uint8Array([0, 0x3c, 0, 0, 0x80, 0x3f]),
    );
    const parsed = parseSafetensors(bytes);
    expect(parsed.tensors.get('y')?.data).toEqual(new Float32Array([1]));
  });

  it('rejects bad arguments to serializeSafetensors', () => {
    expect(() => serializeSafetensors(new Map([['w', tensor([2, 2], [1, 2, 3])]]), { dtype: 'F32' })).toThrow(
      /'w' has shape \[2, 2\] \(4 elements\) but 3 values/,
    );
    expect(() => serializeSafetensors(new Map([['__metadata__', tensor([1], [1])]]), { dtype: 'F32' })).toThrow(DiffusionError);
    expect(() => serializeSafetensors(new Map(), { dtype: 'F64' as 'F32' })).toThrow(/dtype must be 'F32' or 'F16'/);
    expect(() => serializeSafetensors(new Map(), { dtype: 'F32', metadata: { n: 3 as unknown as string } })).toThrow(/metadata 'n' must be a string/);
  });
});

describe('parseSafetensors validation', () => {
  const good = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

  it('rejects files too short for the header length', () => {
    expectInvalid(new Uint8Array(0), 'file is 0 bytes, too short');
    expectInvalid(new Uint8Array(7), 'file is 7 bytes, too short');
  });

  it('rejects header lengths beyond the file or the 100 MB bound', () => {
    expectInvalid(buildFile(good, 8, good.length + 9), /header length \d+ exceeds the file size/);
    expectInvalid(buildFile(good, 8, MAX_HEADER_BYTES + 1), `exceeds the ${MAX_HEADER_BYTES}-byte bound`);
    expectInvalid(buildFile(good, 8, 2 ** 52), 'exceeds the 100000000-byte bound');
  });

  it('rejects headers that are not UTF-8, not JSON, or not an object', () => {
    expectInvalid(buildFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'header is not valid UTF-8');
    expectInvalid(buildFile('{"w": '), 'header is not valid JSON');
    expectInvalid(buildFile(''), 'header is not valid JSON');
    expectInvalid(buildFile('[1, 2]'), 'header must be a JSON object, got an array');
    expectInvalid(buildFile('42'), 'header must be a JSON object, got number 42');
    expectInvalid(buildFile('null'), 'header must be a JSON object, got null');
  });

  it('rejects malformed entries', () => {
    expectInvalid(buildFile('{"w": 5}'), "entry 'w' must be an object");
    expectInvalid(buildFile('{"w": [1]}'), "entry 'w' must be an object");
    expectInvalid(buildFile('{"w":{"shape":[2],"data_offsets":[0,8]}}', 8), "entry 'w' is missing 'dtype'");
    expectInvalid(buildFile('{"w":{"dtype":"F32","data_offsets":[0,8]}}', 8), "entry 'w' is missing 'shape'");
    expectInvalid(buildFile('{"w":{"dtype":"F32","shape":[2]}}', 8), "entry 'w' is missing 'data_offsets'");
    expectInvalid(buildFile('{"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}', 8), "entry 'w' dtype must be a string");
  });

  it('rejects unknown and unsupported dtypes', () => {
    expectInvalid(buildFile('{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', 8), `tensor 'w' has unknown dtype "F33"`);
    expectInvalid(
      buildFile('{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', 8),
      "dtype 'I64', which is not supported (supported: F32, F16, BF16)",
    );
  });

  it('rejects shapes that are not arrays of non-negative integers', () => {
    for (const shape of ['2', '[-1]', '[1.5]', '["2"]', 'null', '[1e300]']) {
      expectInvalid(
        buildFile(`{"w":{"dtype":"F32","shape":${shape},"data_offsets":[0,8]}}`, 8),
        "tensor 'w' shape must be an array of non-negative integers",
      );
    }
  });

  it('rejects data_offsets that are not two ordered integers', () => {
    for (const offsets of ['[0]', '[0,8,9]', '[0,"8"]', '[-8,0]', '[0.5,8]', '{"0":0}']) {
      expectInvalid(
        buildFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":${offsets}}}`, 8),
        "tensor 'w' data_offsets must be two non-negative integers",
      );
    }
    expectInvalid(buildFile('{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', 8), "tensor 'w' data_offsets [8, 0] have begin > end");
  });

  it('rejects byte sizes that do not match shape x dtype size', () => {
    expectInvalid(
      buildFile('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8),
      "tensor 'w' has shape [3] and dtype F32 (3 elements x 4 bytes) but data_offsets [0, 8] span 8 bytes",
    );
    expectInvalid(buildFile('{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}', 8), '(2 elements x 2 bytes)');
    expectInvalid(buildFile('{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', 8), '(too many elements');
  });

  it('rejects holes, overlaps, trailing bytes and offsets outside the file', () => {
    expectInvalid(
      buildFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12),
      "hole in the data buffer: bytes [4, 8) before tensor 'b'",
    );
    expectInvalid(buildFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), "hole in the data buffer: bytes [0, 4) before tensor 'a'");
    expectInvalid(
      buildFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
      "tensor 'b' data_offsets [4, 8] overlap tensor 'a'",
    );
    expectInvalid(buildFile(good, 12), '4 trailing bytes after the last tensor');
    expectInvalid(buildFile('{}', 3), '3 trailing bytes');
    expectInvalid(buildFile(good, 4), "tensor 'w' data_offsets [0, 8] lie outside the file (data buffer is 4 bytes)");
  });

  it('rejects duplicate tensor names and duplicate keys, which JSON.parse would hide', () => {
    expectInvalid(
      buildFile('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "w" :{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
      "duplicate tensor name 'w'",
    );
    expectInvalid(
      buildFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\\u0077":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}', 8),
      "duplicate tensor name 'w'",
    );
    expectInvalid(buildFile('{"w":{"dtype":"F16","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8), "duplicate key 'dtype' in header entry 'w'");
    // Equal strings in different objects, and as values, are fine.
    expect(parseSafetensors(buildFile('{"__metadata__":{"w":"w"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8)).metadata).toEqual({
      w: 'w',
    });
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    expectInvalid(buildFile('{"__metadata__":"x"}'), '__metadata__ must be an object of strings, got string "x"');
    expectInvalid(buildFile('{"__metadata__":["x"]}'), '__metadata__ must be an object of strings, got an array');
    expectInvalid(buildFile('{"__metadata__":{"epoch":3}}'), "__metadata__ entry 'epoch' must be a string, got number 3");
  });

  it('keeps __proto__ keys as plain data', () => {
    const parsed = parseSafetensors(buildFile('{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'));
    expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype);
    expect(parsed.metadata['__proto__']).toBe('x');
    expect(parsed.tensors.has('__proto__')).toBe(true);
  });
});

describe('parseSafetensors on garbage (fuzz)', () => {
  it('either parses or throws DiffusionError(invalid-checkpoint), quickly, never anything else', () => {
    const noise = createNoiseSource('safetensors-fuzz');
    const valid = serializeSafetensors(
      new Map([
        ['a', { shape: [3, 4], data: noise.normal([12]) }],
        ['b.bias', { shape: [4], data: noise.normal([4]) }],
        ['c', { shape: [], data: noise.normal([1]) }],
      ]),
      { dtype: 'F16', metadata: { config: '{"channels":[1,2]}', step: '7' } },
    );
    const headerEnd = 8 + new DataView(valid.buffer).getUint32(0, true);
    const randomInt = (maxExclusive: number): number => noise.integers(1, maxExclusive)[0] as number;
    let parsedCount = 0;
    let rejectedCount = 0;
    const check = (bytes: Uint8Array, label: string): void => {
      const started = performance.now();
      try {
        parseSafetensors(bytes, 'fuzz.safetensors');
        parsedCount += 1;
      } catch (error) {
        if (!(error instanceof DiffusionError) || error.code !== 'invalid-checkpoint') {
          throw new Error(`${label}: unexpected ${String(error)} for bytes ${Buffer.from(bytes.subarray(0, 64)).toString('hex')}`);
        }
        rejectedCount += 1;
      }
      expect(performance.now() - started, label).toBeLessThan(500);
    };
    const started = performance.now();
    for (let round = 0; round < 600; round += 1) {
      // 1. Random bytes, sometimes with a plausible small header length.
      const random = new Uint8Array(noise.integers(randomInt(300), 256));
      if (random.length >= 8 && round % 2 === 0) {
        new DataView(random.buffer).setUint32(0, randomInt(random.length - 7), true);
        random.fill(0, 4, 8);
      }
      check(random, 'random bytes');
      // 2. Truncations of a valid file.
      check(valid.slice(0, randomInt(valid.length + 1)), 'truncation');
      // 3. Byte flips in the header (and a few anywhere).
      const flipped = valid.slice();
      const flips = 1 + randomInt(4);
      for (let flip = 0; flip < flips; flip += 1) {
        const where = round % 4 === 3 ? randomInt(flipped.length) : 8 + randomInt(headerEnd - 8);
        flipped[where] = randomInt(256);
      }
      check(flipped, 'byte flips');
      // 4. Header made of JSON-ish characters.
      const alphabet = '{}[]":,0123456789-.e \\u"dtypeshapedata_offsetsF32F16__metadata__';
      const text = Array.from(noise.integers(randomInt(120), alphabet.length), (index) => alphabet[index]).join('');
      check(buildFile(text, randomInt(16)), 'json-ish header');
    }
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(parsedCount).toBeGreaterThan(0);
    expect(rejectedCount).toBeGreaterThan(1000);
  });

  it('handles pathological but valid JSON headers without stack overflow', () => {
    const depth = 200_000;
    expectInvalid(buildFile('['.repeat(depth) + ']'.repeat(depth)), 'header JSON nests 200000 levels deep');
    expectInvalid(buildFile(`{"__metadata__":${'['.repeat(depth)}${']'.repeat(depth)}}`), 'header JSON nests 200001 levels deep');
    expectInvalid(buildFile('['.repeat(10) + ']'.repeat(10)), 'header must be a JSON object, got an array');
    const many = `{${Array.from({ length: 20_000 }, (_, index) => `"k${index}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`;
    expect(parseSafetensors(buildFile(many)).tensors.size).toBe(20_000);
  });

  it('prints a header length beyond 2^53 as an exact integer', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 18446744073709551615n, true);
    expectInvalid(bytes, 'header length 18446744073709551615 exceeds');
  });
});
