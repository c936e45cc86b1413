import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { ImageDataset } from './image-dataset.js';
import { parseIdx } from './idx.js';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEFAULT_FASHION_MNIST_DIRECTORY = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST class names, index = label (Xiao, Rasul & Vollgraf 2017). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Options of `loadFashionMnist`. */
export interface FashionMnistOptions {
  /** Folder with the four IDX files, gzip'd or not; default /usr/share/datasets/fashion-mnist. */
  readonly directory?: string;
  readonly split: 'train' | 'test';
}

const MAX_DECOMPRESSED_BYTES = 1 << 30;

/** Loads Fashion-MNIST (Xiao et al. 2017) from its IDX files: 28x28x1 images in [-1, 1], labels 0..9. */
export async function loadFashionMnist(options: FashionMnistOptions): Promise<ImageDataset> {
  const directory = options.directory ?? DEFAULT_FASHION_MNIST_DIRECTORY;
  const split = options.split;
  if (split !== 'train' && split !== 'test') {
    throw new DiffusionError('invalid-argument', `loadFashionMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  const isDirectory = await stat(directory).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    throw new DiffusionError(
      'data-error',
      `Fashion-MNIST directory ${directory} does not exist or is not a directory; install Debian's dataset-fashion-mnist or pass { directory }`,
    );
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const [imageFile, imageBytes] = await readIdxFile(directory, `${prefix}-images-idx3-ubyte`);
  const [labelFile, labelBytes] = await readIdxFile(directory, `${prefix}-labels-idx1-ubyte`);
  const images = parseIdx(imageBytes, imageFile, { dimensions: 3 });
  const labels = parseIdx(labelBytes, labelFile, { dimensions: 1 });
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DiffusionError('data-error', `${labelFile}: ${labels.dims[0]} labels for the ${count} images of ${imageFile}`);
  }
  const labelArray = new Int32Array(count);
  labels.data.forEach((label, index) => {
    if (label > 9) throw new DiffusionError('data-error', `${labelFile}: label ${index} is ${label}, outside 0..9`);
    labelArray[index] = label;
  });
  const pixels = new Float32Array(images.data.length);
  images.data.forEach((value, index) => {
    pixels[index] = value / 127.5 - 1;
  });
  return {
    images: pixels,
    labels: labelArray,
    count,
    height,
    width,
    channels: 1,
    numClasses: 10,
    classNames: FASHION_MNIST_CLASS_NAMES,
  };
}

/** Reads `base`, `base.gz` or the `base` spelled with a dot (`train-images.idx3-ubyte`), gunzipping by content. */
async function readIdxFile(directory: string, base: string): Promise<[string, Uint8Array]> {
  const dotted = base.replace(/-(idx\d)/, '.$1');
  const candidates = [base, `${base}.gz`, dotted, `${dotted}.gz`].map((name) => join(directory, name));
  for (const file of candidates) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new DiffusionError('data-error', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
      } catch (error) {
        throw new DiffusionError('data-error', `${file}: corrupt or truncated gzip data (${(error as Error).message})`, { cause: error });
      }
    }
    return [file, bytes];
  }
  throw new DiffusionError(
    'data-error',
    `Fashion-MNIST file ${join(directory, base)} (or .gz) not found; install Debian's dataset-fashion-mnist or pass { directory }`,
  );
}
