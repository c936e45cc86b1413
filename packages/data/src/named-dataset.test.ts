import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { loadDataset, parseDatasetSpec } from './named-dataset.js';

/** A 6x6 PNG, white on the left half or on the right half. */
function halfPng(left: boolean): Buffer {
  const png = new PNG({ width: 6, height: 6 });
  for (let index = 0; index < 36; index += 1) png.data.set(index % 6 < 3 === left ? [255, 255, 255, 255] : [0, 0, 0, 255], index * 4);
  return PNG.sync.write(png);
}

describe('parseDatasetSpec', () => {
  it('reads the built-in names and folder:PATH, and nothing else', () => {
    expect(parseDatasetSpec('mnist')).toEqual({ kind: 'mnist' });
    expect(parseDatasetSpec('fashion-mnist')).toEqual({ kind: 'fashion-mnist' });
    expect(parseDatasetSpec('folder:/data/x')).toEqual({ kind: 'folder', path: '/data/x' });
    for (const name of ['cifar', 'folder:', 'MNIST', '']) expect(parseDatasetSpec(name)).toBeUndefined();
  });
});

describe('loadDataset', () => {
  it('loads a folder at the requested size with labels from its sub-folders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-named-'));
    for (const name of ['left', 'right']) {
      await mkdir(join(root, name));
      for (let item = 0; item < 2; item += 1) await writeFile(join(root, name, `${item}.png`), halfPng(name === 'left'));
    }
    const warnings: string[] = [];
    await writeFile(join(root, 'left', 'broken.png'), new Uint8Array(0));
    const dataset = await loadDataset(`folder:${root}`, { imageSize: 6, skipBadImages: true, onWarning: (line) => warnings.push(line) });
    expect([dataset.count, dataset.height, dataset.width, dataset.channels]).toEqual([4, 6, 6, 1]);
    expect(dataset.classNames).toEqual(['left', 'right']);
    expect(Array.from(dataset.labels).sort()).toEqual([0, 0, 1, 1]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('broken.png');
    // a left image: +1 in column 0, -1 in column 5
    const first = Array.from(dataset.labels).indexOf(0) * 36;
    expect([dataset.images[first], dataset.images[first + 5]]).toEqual([1, -1]);
  });

  it('names what is wrong: an unknown name, a folder without imageSize', async () => {
    await expect(loadDataset('cifar')).rejects.toThrow(
      new DiffusionError('invalid-argument', "dataset must be one of mnist | fashion-mnist | folder:PATH, got 'cifar'"),
    );
    await expect(loadDataset('folder:/nowhere')).rejects.toThrow(/imageSize is required for the folder dataset folder:\/nowhere/);
  });
});
