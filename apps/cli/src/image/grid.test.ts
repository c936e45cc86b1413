import { inflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { gridPng } from './grid.js';

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

describe('gridPng', () => {
  it('lays out cells row by row, magnified, with black gaps of pad pixels', async () => {
    await tf.setBackend('cpu');
    const [rows, columns, side, pad, cellScale] = [2, 3, 4, 2, 3];
    // image i has the constant value -1 + 2 * byte / 255 for bytes 40, 80, 120, 160, 200, 255
    const bytes = [40, 80, 120, 160, 200, 255];
    const values = new Float32Array(rows * columns * side * side);
    for (let image = 0; image < rows * columns; image += 1) values.fill(-1 + (2 * (bytes[image] as number)) / 255, image * 16, (image + 1) * 16);
    const images = tf.tensor4d(values, [rows * columns, side, side, 1]);
    const { png, width, height } = await gridPng(images, { columns, pad, cellScale });
    images.dispose();
    const cell = side * cellScale;
    expect([width, height]).toEqual([pad + columns * (cell + pad), pad + rows * (cell + pad)]);
    const decoded = decodeGray(png);
    expect([decoded.width, decoded.height]).toEqual([44, 30]);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const gap = x % (cell + pad) < pad || y % (cell + pad) < pad;
        const image = Math.floor(y / (cell + pad)) * columns + Math.floor(x / (cell + pad));
        expect(decoded.pixels[y * width + x]).toBe(gap ? 0 : bytes[image]);
      }
    }
  });
});
