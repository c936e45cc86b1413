import { describe, expect, it } from 'vitest';
import { gridSize, imageGrid, toByte } from './grid.js';

describe('imageGrid', () => {
  it('lays out cells row by row with a black frame and gaps of pad pixels', () => {
    const [rows, columns, side, pad, cellScale] = [2, 3, 4, 2, 3];
    // image i has the constant value -1 + 2 * (i + 1) / 6: bytes 43, 85, 128, 170, 213, 255
    const images = new Float32Array(rows * columns * side * side);
    for (let image = 0; image < rows * columns; image += 1) images.fill(-1 + (2 * (image + 1)) / 6, image * 16, (image + 1) * 16);
    const raster = imageGrid(images, { rows, columns, height: side, width: side, channels: 1, pad, cellScale });
    const cell = side * cellScale;
    expect(raster.width).toBe(pad + columns * (cell + pad));
    expect(raster.height).toBe(pad + rows * (cell + pad));
    expect(gridSize({ rows, columns, height: side, width: side, channels: 1, pad, cellScale })).toEqual({ width: 44, height: 30 });
    const pixel = (x: number, y: number) => Array.from(raster.pixels.subarray((y * raster.width + x) * 3, (y * raster.width + x) * 3 + 3));
    // every frame and gap pixel is black
    for (let y = 0; y < raster.height; y += 1) {
      for (let x = 0; x < raster.width; x += 1) {
        const inGapX = (x % (cell + pad)) < pad;
        const inGapY = (y % (cell + pad)) < pad;
        if (inGapX || inGapY) expect(pixel(x, y), `${x},${y}`).toEqual([0, 0, 0]);
      }
    }
    // each cell holds its image's grey, magnified
    for (let row = 0; row < rows; row += 1) {
      for (let column = 0; column < columns; column += 1) {
        const value = toByte(-1 + (2 * (row * columns + column + 1)) / 6);
        const left = pad + column * (cell + pad);
        const top = pad + row * (cell + pad);
        expect(pixel(left, top)).toEqual([value, value, value]);
        expect(pixel(left + cell - 1, top + cell - 1)).toEqual([value, value, value]);
      }
    }
    expect(toByte(-1)).toBe(0);
    expect(toByte(1)).toBe(255);
    expect(toByte(0)).toBe(128);
    expect(toByte(3)).toBe(255);
  });

  it('magnifies pixels into K x K blocks', () => {
    const image = Float32Array.from([-1, 1, 1, -1]);
    const raster = imageGrid(image, { rows: 1, columns: 1, height: 2, width: 2, channels: 1, pad: 0, cellScale: 2 });
    const greys = Array.from({ length: 16 }, (_, index) => raster.pixels[index * 3]);
    expect(greys).toEqual([0, 0, 255, 255, 0, 0, 255, 255, 255, 255, 0, 0, 255, 255, 0, 0]);
  });

  it('rejects a wrong number of values', () => {
    expect(() => imageGrid(new Float32Array(5), { rows: 1, columns: 1, height: 2, width: 2, channels: 1, pad: 0, cellScale: 1 })).toThrow(/need 4 values, got 5/);
  });
});
