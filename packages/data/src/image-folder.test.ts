import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { loadImageFolder } from './image-folder.js';

type Pixel = (x: number, y: number) => [number, number, number, number];

function pngBytes(width: number, height: number, pixel: Pixel): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) png.data.set(pixel(x, y), (y * width + x) * 4);
  return PNG.sync.write(png);
}

function jpegBytes(width: number, height: number, pixel: Pixel): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) data.set(pixel(x, y), (y * width + x) * 4);
  return jpeg.encode({ width, height, data }, 100).data;
}

const red: Pixel = () => [255, 0, 0, 255];
const blue: Pixel = () => [0, 0, 255, 255];

async function expectDataError(promise: Promise<unknown>, fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DiffusionError);
  expect((error as DiffusionError).code).toBe('data-error');
  for (const fragment of fragments) expect((error as DiffusionError).message).toContain(fragment);
}

describe('loadImageFolder', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-images-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const write = async (files: Record<string, Uint8Array | string>): Promise<string> => {
    const root = await mkdtemp(join(directory, 'set-'));
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(root, name);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, bytes);
    }
    return root;
  };

  it('labels images by sorted class folder, resizes PNG and JPEG of any size', async () => {
    const root = await write({
      'roses/b.png': pngBytes(40, 30, red),
      'roses/a.jpg': jpegBytes(17, 23, red),
      'daisies/only.JPEG': jpegBytes(64, 64, blue),
      'daisies/notes.txt': 'not an image',
      'daisies/.hidden.png': 'ignored',
      '.cache/x.png': 'ignored',
    });
    const dataset = await loadImageFolder({ directory: root, size: 8, channels: 3 });
    expect(dataset.classNames).toEqual(['daisies', 'roses']);
    expect([dataset.count, dataset.height, dataset.width, dataset.channels, dataset.numClasses]).toEqual([3, 8, 8, 3, 2]);
    expect([...dataset.labels]).toEqual([0, 1, 1]);
    expect(dataset.images.length).toBe(3 * 8 * 8 * 3);
    expect(dataset.images.every((value) => value >= -1 && value <= 1)).toBe(true);
    const pixel = (image: number, channel: number): number => dataset.images[image * 192 + 27 * 3 + channel] as number;
    // JPEG is lossy: within a few levels of the solid colour.
    expect(pixel(0, 0)).toBeCloseTo(-1, 1);
    expect(pixel(0, 2)).toBeCloseTo(1, 1);
    expect(pixel(1, 0)).toBeCloseTo(1, 1); // roses/a.jpg
    expect([pixel(2, 0), pixel(2, 1), pixel(2, 2)]).toEqual([1, -1, -1]); // roses/b.png is exact
  });

  it('converts to grayscale with Rec. 601 luma, composites alpha over black, crops the centre', async () => {
    // 6 wide x 2 high: columns 0-1 black, 2-3 green, 4-5 white at half alpha. Cover 2x2 keeps the two green columns.
    const root = await write({
      'strip.png': pngBytes(6, 2, (x) => (x < 2 ? [0, 0, 0, 255] : x < 4 ? [0, 255, 0, 255] : [255, 255, 255, 128])),
      'fade.png': pngBytes(2, 2, () => [255, 255, 255, 102]),
    });
    const dataset = await loadImageFolder({ directory: root, size: 2, channels: 1 });
    expect(dataset.classNames).toBeUndefined();
    expect(dataset.numClasses).toBe(1);
    expect([...dataset.labels]).toEqual([0, 0]);
    // fade.png sorts first: 102/255 of white.
    expect(dataset.images[0]).toBeCloseTo((102 / 255) * 2 - 1, 5);
    const green = (0.587 * 255) / 127.5 - 1;
    expect([...dataset.images.subarray(4, 8)].map((value) => Number(value.toFixed(5)))).toEqual(new Array(4).fill(Number(green.toFixed(5))));
  });

  it('gives clear errors naming the folder or the file', async () => {
    await expectDataError(loadImageFolder({ directory: join(directory, 'absent'), size: 4, channels: 1 }), [
      join(directory, 'absent'),
      'does not exist',
    ]);
    const empty = await write({ 'readme.txt': 'x' });
    await expectDataError(loadImageFolder({ directory: empty, size: 4, channels: 1 }), [empty, 'has no PNG or JPEG images']);
    const corruptPng = await write({
      'good.png': pngBytes(3, 3, red),
      'broken.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
    });
    await expectDataError(loadImageFolder({ directory: corruptPng, size: 4, channels: 3 }), ['truncated PNG', join(corruptPng, 'broken.png')]);
    const truncatedJpeg = await write({ 'cut.jpg': jpegBytes(16, 16, red).subarray(0, 40) });
    await expectDataError(loadImageFolder({ directory: truncatedJpeg, size: 4, channels: 3 }), [join(truncatedJpeg, 'cut.jpg')]);
    const notImage = await write({ 'fake.jpeg': 'hello world' });
    await expectDataError(loadImageFolder({ directory: notImage, size: 4, channels: 3 }), [
      join(notImage, 'fake.jpeg'),
      'is not a PNG or JPEG image',
    ]);
    const mixed = await write({ 'cats/a.png': pngBytes(2, 2, red), 'loose.png': pngBytes(2, 2, red) });
    await expectDataError(loadImageFolder({ directory: mixed, size: 4, channels: 3 }), ['mixes images (loose.png) with class sub-folders']);
    const emptyClass = await write({ 'cats/a.png': pngBytes(2, 2, red), 'dogs/readme.md': 'x' });
    await expectDataError(loadImageFolder({ directory: emptyClass, size: 4, channels: 3 }), [join(emptyClass, 'dogs'), 'has no PNG or JPEG images']);
    await expect(loadImageFolder({ directory: empty, size: 0, channels: 3 })).rejects.toThrow(/size must be a positive integer/);
    await expect(loadImageFolder({ directory: empty, size: 4, channels: 2 as 3 })).rejects.toThrow(/channels must be 1 or 3/);
  });
});
