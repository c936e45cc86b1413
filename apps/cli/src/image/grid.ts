import * as tf from '@tensorflow/tfjs-core';
import { encodePng, tileImages } from '@tfjs-diffusion/pipelines/node';

export interface GridPictureOptions {
  /** Images per row (the images per class). */
  readonly columns: number;
  /** Black pixels between cells and around the grid. */
  readonly pad: number;
  /** Each image pixel becomes cellScale x cellScale grid pixels. */
  readonly cellScale: number;
}

/** NHWC images in [-1, 1] as a PNG grid, row by row (tileImages), each pixel magnified cellScale times. */
export async function gridPng(images: tf.Tensor4D, options: GridPictureOptions): Promise<{ png: Uint8Array; width: number; height: number }> {
  const [, height, width] = images.shape;
  const grid = tf.tidy(() => {
    const scaled = options.cellScale === 1 ? images : tf.image.resizeNearestNeighbor(images, [height * options.cellScale, width * options.cellScale]);
    return tileImages(scaled, { columns: options.columns, pad: options.pad });
  });
  try {
    return { png: await encodePng(grid), width: grid.shape[1], height: grid.shape[0] };
  } finally {
    grid.dispose();
  }
}
