import { DiffusionError } from '@tfjs-diffusion/core';
import { Raster } from '../plot/raster.js';

export interface GridOptions {
  readonly rows: number;
  readonly columns: number;
  /** Image side in pixels (square images). */
  readonly height: number;
  readonly width: number;
  /** 1 (grayscale) or 3 (RGB). */
  readonly channels: number;
  /** Black pixels between cells and around the grid. */
  readonly pad: number;
  /** Each image pixel becomes cellScale x cellScale grid pixels. */
  readonly cellScale: number;
}

/** The grid's size: pad + n * (side * cellScale + pad) on each axis. */
export function gridSize(options: GridOptions): { width: number; height: number } {
  return {
    width: options.pad + options.columns * (options.width * options.cellScale + options.pad),
    height: options.pad + options.rows * (options.height * options.cellScale + options.pad),
  };
}

/** [-1, 1] to [0, 255], rounded and clamped. */
export function toByte(value: number): number {
  return Math.min(255, Math.max(0, Math.round(((value + 1) / 2) * 255)));
}

/**
 * Lays out NHWC images in [-1, 1] row by row (image r * columns + c at row r, column c) on a black
 * background: cells of height*cellScale x width*cellScale separated and framed by `pad` pixels.
 */
export function imageGrid(images: Float32Array, options: GridOptions): Raster {
  const { rows, columns, height, width, channels, pad, cellScale } = options;
  const imageSize = height * width * channels;
  if (images.length !== rows * columns * imageSize) {
    throw new DiffusionError('invalid-shape', `imageGrid: ${rows} x ${columns} images of ${height}x${width}x${channels} need ${rows * columns * imageSize} values, got ${images.length}`);
  }
  const size = gridSize(options);
  const raster = new Raster(size.width, size.height, [0, 0, 0]);
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      const base = (row * columns + column) * imageSize;
      const left = pad + column * (width * cellScale + pad);
      const top = pad + row * (height * cellScale + pad);
      for (let y = 0; y < height * cellScale; y += 1) {
        for (let x = 0; x < width * cellScale; x += 1) {
          const source = base + (Math.floor(y / cellScale) * width + Math.floor(x / cellScale)) * channels;
          const offset = ((top + y) * size.width + left + x) * 3;
          for (let channel = 0; channel < 3; channel += 1) {
            raster.pixels[offset + channel] = toByte(images[source + (channels === 1 ? 0 : channel)] as number);
          }
        }
      }
    }
  }
  return raster;
}
