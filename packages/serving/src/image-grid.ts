import { PNG } from 'pngjs';

export interface GridLayout {
  readonly rows: number;
  readonly columns: number;
  /** Height and width of one sample in pixels. */
  readonly height: number;
  readonly width: number;
  /** 1 (grayscale) or 3 (RGB). */
  readonly channels: number;
  /** Black pixels between cells and around the grid (default 2). */
  readonly pad?: number;
}

/** The grid's size: pad + n * (side + pad) on each axis (as the CLI's sample grid). */
export function gridSize(layout: GridLayout): { width: number; height: number } {
  const pad = layout.pad ?? 2;
  return { width: pad + layout.columns * (layout.width + pad), height: pad + layout.rows * (layout.height + pad) };
}

/** [-1, 1] to [0, 255], rounded and clamped. */
function toByte(value: number): number {
  return Math.min(255, Math.max(0, Math.round(((value + 1) / 2) * 255)));
}

/**
 * Encodes NHWC samples in [-1, 1] as a PNG grid: sample r * columns + c at row r, column c, cells
 * separated and framed by `pad` black pixels.
 */
export function encodeGridPng(samples: Float32Array, layout: GridLayout): Buffer {
  const { rows, columns, height, width, channels } = layout;
  const pad = layout.pad ?? 2;
  const sampleSize = height * width * channels;
  if (samples.length !== rows * columns * sampleSize) {
    throw new RangeError(
      `encodeGridPng: ${rows} x ${columns} samples of ${height}x${width}x${channels} need ${rows * columns * sampleSize} values, got ${samples.length}`,
    );
  }
  const size = gridSize(layout);
  const png = new PNG({ width: size.width, height: size.height, colorType: 6 });
  png.data.fill(0);
  for (let offset = 3; offset < png.data.length; offset += 4) png.data[offset] = 255;
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      const base = (row * columns + column) * sampleSize;
      const left = pad + column * (width + pad);
      const top = pad + row * (height + pad);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          const source = base + (y * width + x) * channels;
          const target = ((top + y) * size.width + left + x) * 4;
          for (let channel = 0; channel < 3; channel += 1) {
            png.data[target + channel] = toByte(samples[source + (channels === 1 ? 0 : channel)] as number);
          }
        }
      }
    }
  }
  return PNG.sync.write(png);
}
