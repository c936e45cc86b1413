import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { DEFAULT_FASHION_MNIST_DIRECTORY, loadFashionMnist } from './fashion-mnist.js';
import { parseIdx } from './idx.js';

/** An IDX file: magic 0x0000TTNN, big-endian dims, data. */
function idx(dims: number[], data: number[] | Uint8Array, type = 0x08): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = type;
  bytes[3] = dims.length;
  dims.forEach((dim, axis) => view.setUint32(4 + 4 * axis, dim, false));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

async function expectDataError(promise: Promise<unknown>, fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DiffusionError);
  expect((error as DiffusionError).code).toBe('data-error');
  for (const fragment of fragments) expect((error as DiffusionError).message).toContain(fragment);
}

const realFilesPresent =
  existsSync(join(DEFAULT_FASHION_MNIST_DIRECTORY, 't10k-images-idx3-ubyte.gz')) ||
  existsSync(join(DEFAULT_FASHION_MNIST_DIRECTORY, 't10k-images-idx3-ubyte'));

describe('loadFashionMnist on the real files', () => {
  it.skipIf(!realFilesPresent)(`parses ${DEFAULT_FASHION_MNIST_DIRECTORY} (skipped when absent: apt-get install dataset-fashion-mnist)`, async () => {
    const test = await loadFashionMnist({ split: 'test' });
    expect([test.count, test.height, test.width, test.channels, test.numClasses]).toEqual([10_000, 28, 28, 1, 10]);
    expect(test.images.length).toBe(10_000 * 784);
    expect(test.classNames?.[9]).toBe('Ankle boot');
    const counts = new Array<number>(10).fill(0);
    test.labels.forEach((label) => (counts[label] = (counts[label] as number) + 1));
    expect(counts).toEqual(new Array<number>(10).fill(1000));
    let minimum = Infinity;
    let maximum = -Infinity;
    for (const value of test.images) {
      minimum = Math.min(minimum, value);
      maximum = Math.max(maximum, value);
    }
    expect([minimum, maximum]).toEqual([-1, 1]);
    const train = await loadFashionMnist({ split: 'train' });
    expect(train.count).toBe(60_000);
    expect(train.labels.filter((label) => label === 3).length).toBe(6000);
  });
});

describe('IDX parsing and Fashion-MNIST file errors', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-idx-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const writeSet = async (name: string, files: Record<string, Uint8Array>): Promise<string> => {
    const folder = join(directory, name);
    await mkdir(folder, { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(folder, file), bytes);
    return folder;
  };
  const images = idx([2, 2, 3], [0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6]);
  const labels = idx([2], [9, 0]);

  it('reads small sets, gzip-compressed or not, with any image size', async () => {
    const plain = await writeSet('plain', { 't10k-images-idx3-ubyte': images, 't10k-labels-idx1-ubyte': labels });
    const loaded = await loadFashionMnist({ directory: plain, split: 'test' });
    expect([loaded.count, loaded.height, loaded.width]).toEqual([2, 2, 3]);
    expect([...loaded.labels]).toEqual([9, 0]);
    expect(loaded.images[0]).toBe(-1);
    expect(loaded.images[1]).toBe(1);
    expect(loaded.images[2]).toBeCloseTo(51 / 127.5 - 1, 6);
    const zipped = await writeSet('zipped', { 'train-images-idx3-ubyte.gz': gzipSync(images), 'train-labels.idx1-ubyte': labels });
    expect((await loadFashionMnist({ directory: zipped, split: 'train' })).images).toEqual(loaded.images);
  });

  it('names the missing directory and the missing file', async () => {
    await expectDataError(loadFashionMnist({ directory: join(directory, 'nowhere'), split: 'train' }), [
      join(directory, 'nowhere'),
      'does not exist',
    ]);
    const onlyImages = await writeSet('only-images', { 'train-images-idx3-ubyte': images });
    await expectDataError(loadFashionMnist({ directory: onlyImages, split: 'train' }), [join(onlyImages, 'train-labels-idx1-ubyte'), 'not found']);
  });

  it('rejects empty, truncated, corrupt and inconsistent files, naming them', async () => {
    const cases: [string, Uint8Array, Uint8Array, string[]][] = [
      ['empty', new Uint8Array(0), labels, ['t10k-images-idx3-ubyte', 'file is empty']],
      ['short', new Uint8Array([0, 0]), labels, ['t10k-images-idx3-ubyte', 'truncated: 2 bytes']],
      ['truncated-header', images.subarray(0, 10), labels, ['t10k-images-idx3-ubyte', 'shorter than its 16-byte header']],
      [
        'truncated-data',
        images.subarray(0, images.length - 1),
        labels,
        ['t10k-images-idx3-ubyte', 'truncated: dimensions [2, 2, 3] need 12 data bytes, the file has 11'],
      ],
      ['trailing', new Uint8Array([...images, 7]), labels, ['1 unexpected trailing bytes']],
      ['magic', new Uint8Array([0x1f, 0x00, ...images.subarray(2)]), labels, ['corrupt magic number 0x1f000803']],
      ['type', idx([2, 2, 3], new Uint8Array(48), 0x0d), labels, ['IDX data type float (magic 0x00000d03) is not supported']],
      ['unknown-type', idx([2, 2, 3], new Uint8Array(12), 0x42), labels, ['unknown IDX data type 0x42']],
      ['dims', idx([2, 6], new Uint8Array(12)), labels, ['declares 2 dimensions, expected 3']],
      ['label-dims', images, idx([2, 1], [1, 2]), ['t10k-labels-idx1-ubyte', 'declares 2 dimensions, expected 1']],
      ['count', images, idx([3], [1, 2, 3]), ['t10k-labels-idx1-ubyte', '3 labels for the 2 images']],
      ['label-range', images, idx([2], [1, 10]), ['label 1 is 10, outside 0..9']],
      ['gzip', new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), labels, ['t10k-images-idx3-ubyte', 'corrupt or truncated gzip']],
    ];
    for (const [name, imageBytes, labelBytes, fragments] of cases) {
      const gz = name === 'gzip' ? '.gz' : '';
      const folder = await writeSet(`case-${name}`, { [`t10k-images-idx3-ubyte${gz}`]: imageBytes, 't10k-labels-idx1-ubyte': labelBytes });
      await expectDataError(loadFashionMnist({ directory: folder, split: 'test' }), [folder, ...fragments]);
    }
    const truncatedGzip = gzipSync(images).subarray(0, 20);
    const folder = await writeSet('case-gzip-cut', { 't10k-images-idx3-ubyte.gz': truncatedGzip, 't10k-labels-idx1-ubyte': labels });
    await expectDataError(loadFashionMnist({ directory: folder, split: 'test' }), [join(folder, 't10k-images-idx3-ubyte.gz'), 'gzip']);
  });

  it('parseIdx reports dims and data', () => {
    const parsed = parseIdx(idx([3], [1, 2, 3]), 'x.idx');
    expect(parsed.dims).toEqual([3]);
    expect([...parsed.data]).toEqual([1, 2, 3]);
    expect(() => parseIdx(idx([], []), 'zero.idx')).toThrow('zero.idx: corrupt magic number 0x00000800: zero dimensions');
  });
});
