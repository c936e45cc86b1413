import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeModelFile, type HostTensor } from '@tfjs-diffusion/checkpoints';
import { decodeImage } from '@tfjs-diffusion/data';
import { createUNet } from '@tfjs-diffusion/networks';
import { encodePng } from '@tfjs-diffusion/pipelines/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { temporaryDirectory } from '../test-utils/tiny-data.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

/** A tiny RGB upsampler 4x4 -> 8x8 (ADM's SuperResModel layout), seeded weights, as a model file. */
async function upsamplerFile(path: string): Promise<void> {
  const network = {
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
    seed: 3,
  } as const;
  const model = createUNet(network);
  const tensors = new Map<string, HostTensor>();
  for (const [name, variable] of model.parameters) {
    const data = Float32Array.from(await variable.data());
    if (data.every((value) => value === 0)) data.forEach((_, index) => (data[index] = Math.sin(index + name.length) * 0.2));
    tensors.set(name, { shape: [...variable.shape], data });
  }
  model.dispose();
  const metadata = {
    network,
    schedule: { kind: 'cosine', timesteps: 20 },
    prediction: 'epsilon',
    variance: 'fixed-small',
    conditioning: null,
    data: { shape: [8, 8, 3], range: [-1, 1] },
    weights: 'ema',
  } as const;
  writeFileSync(path, writeModelFile({ metadata, tensors }));
}

/** A PNG of `tiles` 4x4 RGB tiles side by side, tile i a pattern of its own. */
async function tilesPng(path: string, tiles: readonly number[]): Promise<void> {
  const image = tf.tidy(() =>
    tf.concat(
      tiles.map((tile) => tf.sin(tf.add(tf.mul(tf.reshape(tf.range(0, 48), [4, 4, 3]), 0.9), tile * 2.1)) as tf.Tensor3D),
      1,
    ),
  );
  writeFileSync(path, await encodePng(image as tf.Tensor3D, [-1, 1]));
  image.dispose();
}

/** The cells of an output grid (8x8 cells, pad 0) as RGBA bytes per cell. */
function cells(path: string, count: number): Uint8Array[] {
  const grid = decodeImage(new Uint8Array(readFileSync(path)), path);
  return Array.from({ length: count }, (_, cell) => {
    const bytes = new Uint8Array(8 * 8 * 4);
    for (let y = 0; y < 8; y += 1) bytes.set(grid.data.subarray((y * grid.width + cell * 8) * 4, (y * grid.width + cell * 8 + 8) * 4), y * 32);
    return bytes;
  });
}

let directory: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  directory = temporaryDirectory();
  await upsamplerFile(join(directory, 'upsampler.safetensors'));
  await tilesPng(join(directory, 'one.png'), [0]);
  await tilesPng(join(directory, 'two.png'), [0, 1]);
});

describe('tfjs-diffusion sample --low-resolution (super-resolution models)', () => {
  const common = (out: string, low: string) => [
    'sample',
    '--model',
    join(directory, 'upsampler.safetensors'),
    '--low-resolution',
    join(directory, low),
    '--per-class',
    '2',
    '--steps',
    '3',
    '--pad',
    '0',
    '--backend',
    'cpu',
    '--out',
    join(directory, out),
  ];

  it('samples one 8x8 image per tile; one tile serves every image; image i depends on tile i only', async () => {
    const one = await run(...common('one-out.png', 'one.png'));
    expect(one.code, one.stderr).toBe(0);
    const two = await run(...common('two-out.png', 'two.png'));
    expect(two.code, two.stderr).toBe(0);
    const [oneFirst, oneSecond] = cells(join(directory, 'one-out.png'), 2);
    const [twoFirst, twoSecond] = cells(join(directory, 'two-out.png'), 2);
    // image 0 has tile 0 and the noise stream (seed, 0) in both runs: the same pixels
    expect(Array.from(twoFirst ?? [])).toEqual(Array.from(oneFirst ?? []));
    // image 1: tile 0 in the first run, tile 1 in the second
    expect(Array.from(twoSecond ?? [])).not.toEqual(Array.from(oneSecond ?? []));
  });

  it('refuses an upsampler without --low-resolution and a picture that is not made of 4x4 tiles', async () => {
    const missing = await run('sample', '--model', join(directory, 'upsampler.safetensors'), '--backend', 'cpu', '--out', join(directory, 'x.png'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/this is a super-resolution model: give --low-resolution IMAGE.png \(4x4 tiles\)/);
    const three = await run(...common('y.png', 'two.png').map((value) => (value === '2' ? '3' : value)));
    expect(three.code).not.toBe(0);
    expect(three.stderr).toMatch(/two.png holds 2 tiles of 4x4; give one tile or 3/);
  });
});
