import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { writeModelFile, type HostTensor } from '@tfjs-diffusion/checkpoints';
import { DiffusionError } from '@tfjs-diffusion/core';
import { createUNet } from '@tfjs-diffusion/networks';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from './load-pipeline.js';
import type { DiffusionPipeline } from './build-pipeline.js';
import { lowResolutionShape, lowResolutionTiles } from './low-resolution.js';
import { tinyModelFile } from './test-utils/tiny-model.js';

/** A tiny unconditional RGB upsampler, 4x4 -> 8x8 (ADM's SuperResModel), seeded weights. */
const UPSAMPLER = {
  type: 'unet',
  imageSize: 8,
  inChannels: 3,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  attentionResolutions: [],
  groupNormGroups: 4,
  lowResolutionSize: 4,
  variance: 'fixed-small',
  seed: 11,
} as const;

async function upsamplerFile(): Promise<Uint8Array> {
  const network = createUNet(UPSAMPLER);
  const tensors = new Map<string, HostTensor>();
  for (const [name, variable] of network.parameters) {
    const data = Float32Array.from(await variable.data());
    // the zero-initialised output layer made non-zero, so the images depend on the network
    if (data.every((value) => value === 0)) data.forEach((_, index) => (data[index] = Math.sin(index + name.length) * 0.2));
    tensors.set(name, { shape: [...variable.shape], data });
  }
  network.dispose();
  return writeModelFile({
    metadata: {
      network: UPSAMPLER,
      schedule: { kind: 'cosine', timesteps: 20 },
      prediction: 'epsilon',
      variance: 'fixed-small',
      conditioning: null,
      data: { shape: [8, 8, 3], range: [-1, 1] },
      weights: 'ema',
    },
    tensors,
  });
}

/** Low-resolution image `index`: a smooth pattern of its own in [-1, 1]. */
function pattern(index: number): Float32Array {
  return Float32Array.from({ length: 4 * 4 * 3 }, (_, position) => Math.sin(position * 0.7 + index * 1.9) * 0.9);
}

let pipeline: DiffusionPipeline;
beforeAll(async () => {
  await tf.setBackend('cpu');
  pipeline = await loadPipeline(await upsamplerFile());
  return () => pipeline.dispose();
});

async function draw(options: Parameters<DiffusionPipeline['generate']>[0]): Promise<Float32Array> {
  const { images } = await pipeline.generate({ steps: 3, seed: 4, ...options });
  const values = (await images.data()) as Float32Array;
  images.dispose();
  return values;
}

async function refusal(options: Parameters<DiffusionPipeline['generate']>[0], on: DiffusionPipeline = pipeline): Promise<string> {
  try {
    (await on.generate({ steps: 2, ...options })).images.dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(DiffusionError);
    return (error as Error).message;
  }
  throw new Error('generate accepted the options');
}

describe('generate with a super-resolution model (lowResolution)', () => {
  it('reads the small size and channels from the model', () => {
    expect(lowResolutionShape(pipeline)).toEqual([4, 4, 3]);
  });

  it('draws one [8, 8, 3] image per low-resolution image; the images do not depend on batchSize or the input form', async () => {
    const images = [pattern(0), pattern(1), pattern(2)];
    const before = tf.memory().numTensors;
    const together = await draw({ lowResolution: images, batchSize: 3 });
    expect(together.length).toBe(3 * 8 * 8 * 3);
    expect(together.every((value) => Number.isFinite(value) && value >= -1 && value <= 1)).toBe(true);
    const oneByOne = await draw({ lowResolution: images, batchSize: 1 });
    expect(Array.from(oneByOne)).toEqual(Array.from(together));
    const tensor = tf.tensor4d(Float32Array.from(images.flatMap((image) => Array.from(image))), [3, 4, 4, 3]);
    const fromTensor = await draw({ lowResolution: tensor, count: 3, batchSize: 2 });
    tensor.dispose();
    expect(Array.from(fromTensor)).toEqual(Array.from(together));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('image i is conditioned on low-resolution image i: changing image 1 changes only output 1', async () => {
    const first = await draw({ lowResolution: [pattern(0), pattern(1)], batchSize: 1 });
    const second = await draw({ lowResolution: [pattern(0), pattern(5)], batchSize: 1 });
    const size = 8 * 8 * 3;
    expect(Array.from(second.subarray(0, size))).toEqual(Array.from(first.subarray(0, size)));
    let largest = 0;
    for (let index = size; index < 2 * size; index += 1) largest = Math.max(largest, Math.abs((second[index] as number) - (first[index] as number)));
    expect(largest).toBeGreaterThan(1e-3);
  });

  it('refuses a missing, mis-shaped, mis-counted or out-of-range lowResolution by name', async () => {
    expect(await refusal({ count: 2 })).toMatch(/super-resolution model: give lowResolution, one 4x4 image of 3 channels/);
    const wrong = tf.zeros([2, 8, 8, 3]);
    expect(await refusal({ lowResolution: wrong })).toMatch(/lowResolution has shape \[2, 8, 8, 3\]; this upsampler takes \[2, 4, 4, 3\]/);
    wrong.dispose();
    expect(await refusal({ count: 3, lowResolution: [pattern(0), pattern(1)] })).toMatch(/lowResolution has 2 images for 3 generated images/);
    expect(await refusal({ lowResolution: [pattern(0), new Float32Array(5)] })).toMatch(
      /lowResolution\[1\] has 5 values; an image of \[4, 4, 3\] has 48/,
    );
    const bright = pattern(0);
    bright[7] = 1.5;
    expect(await refusal({ lowResolution: [pattern(1), bright] })).toMatch(
      /lowResolution image 1 holds 1.5 \(flat index 7\); values must lie in the data range \[-1, 1\]/,
    );
    expect(await refusal({ lowResolution: [pattern(0)], guidance: 'cfg' })).toMatch(/'cfg' is not supported for super-resolution/);
  });

  it('refuses lowResolution for a model that is not an upsampler', async () => {
    const plain = await loadPipeline(await tinyModelFile());
    try {
      expect(lowResolutionShape(plain)).toBeNull();
      expect(await refusal({ labels: [1], lowResolution: [new Float32Array(4 * 4)] }, plain)).toMatch(
        /lowResolution is for super-resolution models; this model takes no low-resolution image/,
      );
    } finally {
      plain.dispose();
    }
  });
});

describe('lowResolutionTiles', () => {
  /** An RGBA picture width x height whose pixel (x, y) is (x * 10, y * 10, 255, 255). */
  const picture = (width: number, height: number) => ({
    width,
    height,
    data: Uint8Array.from({ length: width * height * 4 }, (_, index) => {
      const pixel = Math.floor(index / 4);
      return [(pixel % width) * 10, Math.floor(pixel / width) * 10, 255, 255][index % 4] as number;
    }),
  });

  it('cuts a grid of s x s tiles row by row into [-1, 1] values', () => {
    const tiles = lowResolutionTiles(picture(8, 4), [4, 4, 3], 2);
    expect(tiles).toHaveLength(2);
    // tile 1 starts at x = 4: pixel (0, 0) of it is (40, 0, 255)
    expect(Array.from(tiles[1]?.subarray(0, 3) ?? [])).toEqual([Math.fround(40 / 127.5 - 1), -1, 1]);
    // tile 0, pixel (x 3, y 2): (30, 20, 255)
    expect(Array.from(tiles[0]?.subarray((2 * 4 + 3) * 3, (2 * 4 + 3) * 3 + 3) ?? [])).toEqual([
      Math.fround(30 / 127.5 - 1),
      Math.fround(20 / 127.5 - 1),
      1,
    ]);
  });

  it('uses one tile for every image, averages RGB for one channel, and refuses other sizes by name', () => {
    const repeated = lowResolutionTiles(picture(4, 4), [4, 4, 1], 3);
    expect(repeated).toHaveLength(3);
    expect(repeated[2]).toBe(repeated[0]);
    expect(repeated[0]?.[1]).toBeCloseTo((10 + 0 + 255) / 3 / 127.5 - 1, 6);
    expect(() => lowResolutionTiles(picture(6, 4), [4, 4, 3], 1, 'low.png')).toThrow(
      /low.png is 6x4; it must be one 4x4 image or a grid of 4x4 tiles/,
    );
    expect(() => lowResolutionTiles(picture(12, 4), [4, 4, 3], 2)).toThrow(/holds 3 tiles of 4x4; give one tile or 2/);
  });
});
