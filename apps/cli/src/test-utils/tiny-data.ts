import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';

export const temporaryDirectory = (prefix = 'tfjs-diffusion-cli-'): string => mkdtempSync(join(tmpdir(), prefix));

/** A folder dataset of 8x8 grayscale PNGs in two class folders (bright left half / bright right half). */
export function tinyImageFolder(perClass = 6): string {
  const root = temporaryDirectory('tfjs-diffusion-folder-');
  for (const [label, name] of ['left', 'right'].entries()) {
    mkdirSync(join(root, name));
    for (let item = 0; item < perClass; item += 1) {
      const png = new PNG({ width: 8, height: 8 });
      for (let y = 0; y < 8; y += 1) {
        for (let x = 0; x < 8; x += 1) {
          const bright = (label === 0 ? x < 4 : x >= 4) ? 200 + ((x * 7 + y * 3 + item * 11) % 55) : (item * 13 + y * 5) % 40;
          const offset = (y * 8 + x) * 4;
          png.data[offset] = png.data[offset + 1] = png.data[offset + 2] = bright;
          png.data[offset + 3] = 255;
        }
      }
      writeFileSync(join(root, name, `${item}.png`), PNG.sync.write(png));
    }
  }
  return root;
}

/** A U-Net config for 8x8x1 images, two classes: small enough for cpu tests. */
export const TINY_UNET = {
  type: 'unet',
  imageSize: 8,
  inChannels: 1,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  attentionResolutions: [4],
  groupNormGroups: 4,
  numClasses: 2,
  dropout: 0,
  prediction: 'epsilon',
  variance: 'learned-range',
  seed: 3,
};

export function tinyConfigFile(config: object = TINY_UNET): string {
  const path = join(temporaryDirectory(), 'unet.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}
