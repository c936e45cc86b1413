import * as tf from '@tensorflow/tfjs-core';
import { tileImages, toImageData } from '@tfjs-diffusion/pipelines';

/**
 * Draws NHWC images (values in `range`, gray or RGB) as a grid on the canvas with the pipelines
 * package's tiling: the canvas gets the grid's pixel size and is shown `zoom` times larger.
 */
export async function drawImages(
  canvas: HTMLCanvasElement,
  images: tf.Tensor,
  columns: number,
  range: readonly [number, number],
  zoom: number,
): Promise<void> {
  const grid = tf.tidy(() =>
    tileImages(tf.clipByValue(images, range[0], range[1]) as tf.Tensor4D, {
      columns: Math.max(1, Math.min(columns, images.shape[0] ?? 1)),
      pad: 1,
      background: range[0],
    }),
  );
  try {
    const imageData = await toImageData(grid, range);
    canvas.width = imageData.width;
    canvas.height = imageData.height;
    canvas.style.width = `${imageData.width * zoom}px`;
    canvas.style.height = `${imageData.height * zoom}px`;
    canvas.getContext('2d')?.putImageData(imageData, 0, 0);
  } finally {
    grid.dispose();
  }
}
