import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { decodeImage, loadImageFolder } from './image-folder.js';
import { readImageHeader } from './image-header.js';

// CRC-32 (ISO 3309) for hand-built PNG chunks
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** A grey 8-bit PNG whose IHDR says width x height but whose IDAT holds `scanlines` (already filtered). */
function craftedPng(width: number, height: number, scanlines: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, grey, deflate, filter 0, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(scanlines)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
/** Filtered scanlines of a grey side x side image: filter byte 0, then the pixel values. */
function greyScanlines(width: number, height: number, value: number): Uint8Array {
  const rows = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y += 1) rows.fill(value, y * (width + 1) + 1, (y + 1) * (width + 1));
  return rows;
}

function expectDataError(action: () => unknown, fragments: string[]): void {
  let caught: unknown = null;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DiffusionError);
  expect((caught as DiffusionError).code).toBe('data-error');
  for (const fragment of fragments) expect((caught as DiffusionError).message).toContain(fragment);
}

describe('image headers are bounded before decoding', () => {
  it('reads PNG and JPEG sizes from their headers', () => {
    const png = new PNG({ width: 5, height: 3 });
    expect(readImageHeader(PNG.sync.write(png), 'a.png')).toEqual({ format: 'png', width: 5, height: 3 });
    const jpg = jpeg.encode({ width: 7, height: 4, data: Buffer.alloc(7 * 4 * 4) }, 90).data;
    expect(readImageHeader(jpg, 'a.jpg')).toEqual({ format: 'jpeg', width: 7, height: 4 });
  });

  it('refuses a 73-byte PNG claiming 60000x60000 from its header', () => {
    const bomb = craftedPng(60000, 60000, greyScanlines(1, 1, 0));
    expect(bomb.length).toBeLessThan(80);
    expectDataError(() => decodeImage(bomb, 'huge.png'), ['huge.png', '60000x60000', 'more than the limit of 16777216']);
  });

  it('refuses a decompression bomb (a 25 KB file whose data inflates to 25 M pixels)', () => {
    const bomb = craftedPng(5000, 5000, new Uint8Array(5000 * 5001));
    expect(bomb.length).toBeLessThan(30_000);
    expectDataError(() => decodeImage(bomb, 'bomb.png'), ['bomb.png', '5000x5000', 'more than the limit']);
  });

  it('detects a PNG whose data is shorter than its header says, within the pixel bound too', () => {
    const short = craftedPng(10000, 10000, greyScanlines(28, 28, 200));
    expectDataError(() => decodeImage(short, 'short.png'), ['short.png', '10000x10000']);
    expectDataError(() => decodeImage(short, 'short.png', 10000 * 10000), ['short.png', 'truncated PNG', '10000x10000', 'inflates to 812 bytes']);
    // the honest 28 x 28 file decodes to its grey value
    const honest = decodeImage(craftedPng(28, 28, greyScanlines(28, 28, 200)), 'ok.png');
    expect([honest.width, honest.height, honest.data[0], honest.data[3]]).toEqual([28, 28, 200, 255]);
  });

  it('says an empty file is empty and a cut-off PNG is truncated', () => {
    expectDataError(() => decodeImage(new Uint8Array(0), 'empty.png'), ['empty.png', 'is empty']);
    const whole = craftedPng(28, 28, greyScanlines(28, 28, 9));
    expectDataError(() => decodeImage(whole.subarray(0, 20), 'cut.png'), ['cut.png', 'truncated PNG']);
    expectDataError(() => decodeImage(whole.subarray(0, whole.length - 20), 'cut.png'), ['cut.png', 'truncated PNG']);
    const jpg = jpeg.encode({ width: 7, height: 4, data: Buffer.alloc(7 * 4 * 4) }, 90).data;
    expectDataError(() => decodeImage(jpg.subarray(0, 6), 'cut.jpg'), ['cut.jpg', 'truncated JPEG']);
  });

  it('refuses a JPEG whose frame header exceeds the pixel bound', () => {
    const jpg = Buffer.from(jpeg.encode({ width: 64, height: 64, data: Buffer.alloc(64 * 64 * 4) }, 90).data);
    expectDataError(() => decodeImage(jpg, 'big.jpg', 63 * 64), ['big.jpg', '64x64', 'more than the limit of 4032']);
  });
});

describe('loadImageFolder with skipBadImages', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-bad-images-'));
    await writeFile(join(directory, 'a-good.png'), craftedPng(4, 4, greyScanlines(4, 4, 255)));
    await writeFile(join(directory, 'b-empty.png'), new Uint8Array(0));
    await writeFile(join(directory, 'c-huge.png'), craftedPng(60000, 60000, greyScanlines(1, 1, 0)));
    await writeFile(join(directory, 'd-good.png'), craftedPng(4, 4, greyScanlines(4, 4, 0)));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('fails on the first bad file by default, naming it', async () => {
    await expect(loadImageFolder({ directory, size: 2, channels: 1 })).rejects.toThrow(/b-empty\.png is empty/);
  });

  it('skips bad files with one warning each and keeps the good ones in order', async () => {
    const warnings: string[] = [];
    const dataset = await loadImageFolder({ directory, size: 2, channels: 1, skipBadImages: true, onWarning: (line) => warnings.push(line) });
    expect(dataset.count).toBe(2);
    expect(Array.from(dataset.images)).toEqual([1, 1, 1, 1, -1, -1, -1, -1]);
    expect(dataset.labels.length).toBe(2);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('b-empty.png is empty');
    expect(warnings[1]).toContain('c-huge.png');
  });
});
