import { inflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from './encode-png.js';
import { tileImages } from './tile-images.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The gray pixels of an 8-bit grayscale PNG without filters (what encodePng writes). */
function decodeGray(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const view = new DataView(png.buffer, png.byteOffset);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const idatLength = view.getUint32(33);
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  return { width, height, pixels };
}

/** `count` constant images of side x side; image i has the gray byte bytes[i]. */
function constantImages(bytes: readonly number[], side: number): tf.Tensor4D {
  const values = new Float32Array(bytes.length * side * side);
  bytes.forEach((byte, image) => values.fill(-1 + (2 * byte) / 255, image * side * side, (image + 1) * side * side));
  return tf.tensor4d(values, [bytes.length, side, side, 1]);
}

describe('tileImages', () => {
  it('lays out cells row by row, magnified, with black gaps of pad pixels (as a PNG)', async () => {
    const [rows, columns, side, pad, scale] = [2, 3, 4, 2, 3];
    const bytes = [40, 80, 120, 160, 200, 255];
    const images = constantImages(bytes, side);
    const grid = tileImages(images, { columns, pad, scale });
    images.dispose();
    const cell = side * scale;
    expect(grid.shape).toEqual([pad + rows * (cell + pad), pad + columns * (cell + pad), 1]);
    const decoded = decodeGray(await encodePng(grid));
    grid.dispose();
    expect([decoded.width, decoded.height]).toEqual([44, 30]);
    for (let y = 0; y < decoded.height; y += 1) {
      for (let x = 0; x < decoded.width; x += 1) {
        const gap = x % (cell + pad) < pad || y % (cell + pad) < pad;
        const image = Math.floor(y / (cell + pad)) * columns + Math.floor(x / (cell + pad));
        expect(decoded.pixels[y * decoded.width + x]).toBe(gap ? 0 : bytes[image]);
      }
    }
  });

  it('repeats each pixel scale x scale times, leaves a short last row as background, and refuses a bad scale', () => {
    // one 2x2 image with four different pixels and one more: two columns, the last row half empty
    const images = tf.tensor4d([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 0.9], [3, 2, 2, 1]);
    const grid = tileImages(images, { columns: 2, pad: 1, scale: 2 });
    expect(grid.shape).toEqual([1 + 2 * 5, 1 + 2 * 5, 1]);
    const values = grid.arraySync().map((row) => row.map(([value]) => Math.round((value as number) * 10) / 10));
    // the first cell: rows 1..4, columns 1..4, each source pixel a 2x2 block
    expect(values.slice(1, 5).map((row) => row.slice(1, 5))).toEqual([
      [0.1, 0.1, 0.2, 0.2],
      [0.1, 0.1, 0.2, 0.2],
      [0.3, 0.3, 0.4, 0.4],
      [0.3, 0.3, 0.4, 0.4],
    ]);
    expect(values[6]?.slice(1, 5)).toEqual([0.9, 0.9, 0.9, 0.9]);
    // the missing fourth cell is background
    expect(values[6]?.slice(6, 10)).toEqual([-1, -1, -1, -1]);
    grid.dispose();
    const plain = tileImages(images, { columns: 2, pad: 1 });
    const unscaled = tileImages(images, { columns: 2, pad: 1, scale: 1 });
    expect(unscaled.arraySync()).toEqual(plain.arraySync());
    plain.dispose();
    unscaled.dispose();
    expect(() => tileImages(images, { scale: 0 })).toThrow(/scale must be a positive integer, got 0/);
    expect(() => tileImages(images, { scale: 1.5 })).toThrow(/scale must be a positive integer/);
    images.dispose();
  });
});
