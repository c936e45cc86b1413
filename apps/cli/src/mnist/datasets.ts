import { loadFashionMnist, loadImageFolder, loadMnist, type ImageDataset } from '@tfjs-diffusion/data';
import { UsageError } from '../cli-error.js';

/** What `--dataset` accepts. */
export const DATASET_FORMS = 'mnist | fashion-mnist | folder:PATH';

/** Parses `--dataset` into a spec; folders need `--image-size`. */
export function parseDatasetSpec(value: string): { kind: 'mnist' | 'fashion-mnist' } | { kind: 'folder'; path: string } {
  if (value === 'mnist' || value === 'fashion-mnist') return { kind: value };
  if (value.startsWith('folder:') && value.length > 'folder:'.length) return { kind: 'folder', path: value.slice('folder:'.length) };
  throw new UsageError(`--dataset must be one of ${DATASET_FORMS}, got '${value}'`);
}

/** Loads a training (or held-out) dataset as NHWC images in [-1, 1]. */
export async function loadDataset(
  value: string,
  options: { split?: 'train' | 'test'; imageSize?: number; channels?: 1 | 3; skipBadImages?: boolean; onWarning?: (line: string) => void } = {},
): Promise<ImageDataset> {
  const spec = parseDatasetSpec(value);
  const split = options.split ?? 'train';
  switch (spec.kind) {
    case 'mnist':
      return loadMnist({ split });
    case 'fashion-mnist':
      return loadFashionMnist({ split });
    case 'folder':
      if (options.imageSize === undefined) throw new UsageError('--image-size is required with --dataset folder:PATH');
      return loadImageFolder({
        directory: spec.path,
        size: options.imageSize,
        channels: options.channels ?? 1,
        ...(options.skipBadImages ? { skipBadImages: true } : {}),
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
  }
}
