import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/** Options of `tileImages`. */
export interface TileOptions {
  /** Images per grid row (default: all in one row); with one row per class, the images per class. */
  readonly columns?: number;
  /** Pixels of background between cells and around the grid (default 2). */
  readonly pad?: number;
  /** The background value, in the images' range (default -1: black for data in [-1, 1]). */
  readonly background?: number;
  /** Each image pixel becomes scale x scale grid pixels (nearest neighbour; default 1); pad is not scaled. */
  readonly scale?: number;
}

/**
 * Lays out NHWC images row by row (image r * columns + c at row r, column c) in one HWC image,
 * cells separated and framed by `pad` background pixels; a short last row is left as background.
 *
 * @example
 * const grid = tileImages(images, { columns: 8, pad: 2 }); // [H', W', C]
 */
export function tileImages(images: tf.Tensor4D, options: TileOptions = {}): tf.Tensor3D {
  const [count, imageHeight, imageWidth, channels] = images.shape;
  const columns = options.columns ?? count;
  const pad = options.pad ?? 2;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1)
    throw new DiffusionError('invalid-argument', `tileImages: scale must be a positive integer, got ${scale}`);
  const [height, width] = [imageHeight * scale, imageWidth * scale];
  if (!Number.isInteger(columns) || columns < 1)
    throw new DiffusionError('invalid-argument', `tileImages: columns must be a positive integer, got ${columns}`);
  if (!Number.isInteger(pad) || pad < 0) throw new DiffusionError('invalid-argument', `tileImages: pad must be a non-negative integer, got ${pad}`);
  const rows = Math.max(1, Math.ceil(count / columns));
  const background = options.background ?? -1;
  return tf.tidy(() => {
    // 1. Magnify, rows then columns (rank-4 tiles, which every backend has):
    //    [n, h, 1, w c] -> [n, h, s, w c] = [n h s, w, 1, c] -> [n h s, w, s, c] = [n, h s, w s, c].
    let cells: tf.Tensor4D = tf.cast(images, 'float32');
    if (scale > 1) {
      const rowsRepeated = tf.tile(tf.reshape(cells, [count, imageHeight, 1, imageWidth * channels]), [1, 1, scale, 1]);
      const columnsRepeated = tf.tile(tf.reshape(rowsRepeated, [count * height, imageWidth, 1, channels]), [1, 1, scale, 1]);
      cells = tf.reshape(columnsRepeated, [count, height, width, channels]);
    }
    // 2. Fill the last row, then pad every cell on its bottom/right (and the grid on its top/left).
    const missing = rows * columns - count;
    if (missing > 0) cells = tf.concat([cells, tf.fill([missing, height, width, channels], background)], 0);
    cells = tf.pad(
      cells,
      [
        [0, 0],
        [0, pad],
        [0, pad],
        [0, 0],
      ],
      background,
    );
    // 3. [rows, columns, h, w, c] -> [rows, h, columns, w, c] -> [rows * h, columns * w, c].
    const cellHeight = height + pad;
    const cellWidth = width + pad;
    const grid = tf.transpose(tf.reshape(cells, [rows, columns, cellHeight, cellWidth, channels]), [0, 2, 1, 3, 4]);
    const flat = tf.reshape(grid, [rows * cellHeight, columns * cellWidth, channels]) as tf.Tensor3D;
    return tf.pad(
      flat,
      [
        [pad, 0],
        [pad, 0],
        [0, 0],
      ],
      background,
    );
  });
}
