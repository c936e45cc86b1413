import type * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * RGBA bytes of an HWC image with values in `range` (default [-1, 1]): gray for 1 channel, RGB for
 * 3, alpha 255. Works anywhere; `toImageData` wraps it for a canvas.
 */
export async function toRgbaBytes(
  image: tf.Tensor3D,
  range: readonly [number, number] = [-1, 1],
): Promise<{ width: number; height: number; data: Uint8ClampedArray<ArrayBuffer> }> {
  const [height, width, channels] = image.shape;
  if (channels !== 1 && channels !== 3) throw new DiffusionError('invalid-shape', `toRgbaBytes: images need 1 or 3 channels, got ${channels}`);
  const values = await image.data();
  const data = new Uint8ClampedArray(new ArrayBuffer(width * height * 4));
  const [low, high] = range;
  const toByte = (value: number): number => Math.round(((value - low) / (high - low)) * 255);
  for (let pixel = 0; pixel < width * height; pixel += 1) {
    for (let channel = 0; channel < 3; channel += 1)
      data[pixel * 4 + channel] = toByte(values[pixel * channels + (channels === 1 ? 0 : channel)] as number);
    data[pixel * 4 + 3] = 255;
  }
  return { width, height, data };
}

/**
 * A browser `ImageData` of an HWC image in `range` (default [-1, 1]), for `context.putImageData`.
 *
 * @example
 * context.putImageData(await toImageData(tileImages(images, { columns: 8 })), 0, 0);
 */
export async function toImageData(image: tf.Tensor3D, range: readonly [number, number] = [-1, 1]): Promise<ImageData> {
  if (typeof ImageData === 'undefined')
    throw new DiffusionError(
      'invalid-argument',
      'toImageData needs a browser (ImageData); in Node use encodePng from @tfjs-diffusion/pipelines/node',
    );
  const { width, height, data } = await toRgbaBytes(image, range);
  return new ImageData(data, width, height);
}
