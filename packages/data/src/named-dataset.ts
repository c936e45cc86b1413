import { DiffusionError } from '@tfjs-diffusion/core';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadImageFolder } from './image-folder.js';
import type { ImageDataset } from './image-dataset.js';
import { loadMnist } from './mnist.js';

/** The dataset names `loadDataset` accepts. */
export const DATASET_FORMS = 'mnist | fashion-mnist | folder:PATH';

/** A parsed dataset name: one of the built-in datasets, or a folder of images. */
export type DatasetSpec = { readonly kind: 'mnist' | 'fashion-mnist' } | { readonly kind: 'folder'; readonly path: string };

/** Options of `loadDataset`; `imageSize` is required for a folder (its images are resized and centre-cropped to it). */
export interface NamedDatasetOptions {
  readonly split?: 'train' | 'test';
  readonly imageSize?: number;
  readonly channels?: 1 | 3;
  readonly skipBadImages?: boolean;
  readonly onWarning?: (line: string) => void;
}

/** Parses a dataset name ('mnist', 'fashion-mnist' or 'folder:PATH'); undefined for anything else. */
export function parseDatasetSpec(name: string): DatasetSpec | undefined {
  if (name === 'mnist' || name === 'fashion-mnist') return { kind: name };
  if (name.startsWith('folder:') && name.length > 'folder:'.length) return { kind: 'folder', path: name.slice('folder:'.length) };
  return undefined;
}

/** Loads a dataset by name as NHWC images in [-1, 1]: MNIST, Fashion-MNIST (either split) or an image folder (loadImageFolder). */
export async function loadDataset(name: string, options: NamedDatasetOptions = {}): Promise<ImageDataset> {
  const spec = parseDatasetSpec(name);
  const split = options.split ?? 'train';
  if (spec === undefined) throw new DiffusionError('invalid-argument', `dataset must be one of ${DATASET_FORMS}, got '${name}'`);
  if (spec.kind !== 'folder') return spec.kind === 'mnist' ? loadMnist({ split }) : loadFashionMnist({ split });
  if (options.imageSize === undefined) throw new DiffusionError('invalid-argument', `imageSize is required for the folder dataset ${name}`);
  return loadImageFolder({
    directory: spec.path,
    size: options.imageSize,
    channels: options.channels ?? 1,
    ...(options.skipBadImages ? { skipBadImages: true } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}
