import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { DiffusionPipeline } from './build-pipeline.js';

/**
 * The low-resolution images of a super-resolution model (ADM's SuperResModel, Dhariwal & Nichol
 * 2021, and improved-diffusion's upsampler): an NHWC tensor [count, s, s, C], or one array of
 * s * s * C values (HWC, row-major) per image, in the data range.
 */
export type LowResolutionInput = tf.Tensor | readonly ArrayLike<number>[];

/** The low-resolution image shape [s, s, C] a pipeline's model takes, or null for a model that takes none. */
export function lowResolutionShape(pipeline: Pick<DiffusionPipeline, 'metadata'>): [number, number, number] | null {
  const network = pipeline.metadata.network as { readonly lowResolutionSize?: unknown; readonly inChannels?: unknown };
  const size = network.lowResolutionSize;
  if (typeof size !== 'number') return null;
  return [size, size, typeof network.inChannels === 'number' ? network.inChannels : 3];
}

/**
 * Checks `generate`'s lowResolution against the model and returns the values of all images (NHWC,
 * image after image): shape [count, s, s, C], finite values inside the data range `range`.
 * Every problem is a DiffusionError('invalid-argument') naming what is wrong.
 */
export async function lowResolutionValues(
  input: LowResolutionInput,
  shape: readonly [number, number, number],
  count: number,
  range: readonly [number, number],
): Promise<Float32Array> {
  const imageValues = shape[0] * shape[1] * shape[2];
  const expected = `[${count}, ${shape.join(', ')}] (one ${shape[0]}x${shape[1]} image of ${shape[2]} channels per generated image)`;
  let values: Float32Array;
  if (input instanceof tf.Tensor) {
    const same = input.rank === 4 && input.shape[0] === count && input.shape.slice(1).every((length, axis) => length === shape[axis]);
    if (!same)
      throw new DiffusionError('invalid-argument', `generate: lowResolution has shape [${input.shape.join(', ')}]; this upsampler takes ${expected}`);
    values = Float32Array.from(await input.data());
  } else {
    if (!Array.isArray(input)) {
      throw new DiffusionError('invalid-argument', 'generate: lowResolution must be a tensor [count, s, s, C] or an array of per-image values');
    }
    if (input.length !== count) {
      throw new DiffusionError(
        'invalid-argument',
        `generate: lowResolution has ${input.length} images for ${count} generated images; this upsampler takes ${expected}`,
      );
    }
    values = new Float32Array(count * imageValues);
    input.forEach((image: ArrayLike<number>, index: number) => {
      if (image?.length !== imageValues) {
        throw new DiffusionError(
          'invalid-argument',
          `generate: lowResolution[${index}] has ${String(image?.length)} values; an image of [${shape.join(', ')}] has ${imageValues}`,
        );
      }
      for (let position = 0; position < imageValues; position += 1) values[index * imageValues + position] = image[position] as number;
    });
  }
  const [low, high] = range;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index] as number;
    if (!Number.isFinite(value) || value < low || value > high) {
      throw new DiffusionError(
        'invalid-argument',
        `generate: lowResolution image ${Math.floor(index / imageValues)} holds ${String(value)} (flat index ${index % imageValues}); values must lie in the data range [${low}, ${high}]`,
      );
    }
  }
  return values;
}

/**
 * Cuts an RGBA picture (a decoded PNG, a canvas ImageData) into low-resolution images: a grid of
 * s x s tiles without gaps, read row by row, each pixel mapped to the data range [-1, 1]
 * (v / 127.5 - 1; one channel: the mean of R, G, B). `count` tiles are needed, or one tile that
 * every image uses.
 */
export function lowResolutionTiles(
  image: { readonly width: number; readonly height: number; readonly data: ArrayLike<number> },
  shape: readonly [number, number, number],
  count: number,
  what = 'the low-resolution image',
): Float32Array[] {
  const [size, , channels] = shape;
  const { width, height, data } = image;
  if (width % size !== 0 || height % size !== 0 || data.length !== width * height * 4) {
    throw new DiffusionError(
      'invalid-argument',
      `${what} is ${width}x${height}; it must be one ${size}x${size} image or a grid of ${size}x${size} tiles without gaps (the model's small size)`,
    );
  }
  const columns = width / size;
  const tiles = columns * (height / size);
  if (tiles !== 1 && tiles !== count) {
    throw new DiffusionError(
      'invalid-argument',
      `${what} holds ${tiles} tiles of ${size}x${size}; give one tile or ${count} (one per image, row by row)`,
    );
  }
  const tile = (index: number): Float32Array => {
    const values = new Float32Array(size * size * channels);
    const left = (index % columns) * size;
    const top = Math.floor(index / columns) * size;
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        const pixel = ((top + y) * width + left + x) * 4;
        const red = data[pixel] as number;
        const green = data[pixel + 1] as number;
        const blue = data[pixel + 2] as number;
        const target = (y * size + x) * channels;
        if (channels === 1) values[target] = (red + green + blue) / 3 / 127.5 - 1;
        else
          for (let channel = 0; channel < channels; channel += 1)
            values[target + channel] = (data[pixel + Math.min(channel, 2)] as number) / 127.5 - 1;
      }
    }
    return values;
  };
  if (tiles === 1) {
    const only = tile(0);
    return Array.from({ length: count }, () => only);
  }
  return Array.from({ length: count }, (_, index) => tile(index));
}
