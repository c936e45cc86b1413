import { deflateSync } from 'node:zlib';
import type * as tf from '@tensorflow/tfjs-core';
import { toRgbaBytes } from './image-data.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  return crc >>> 0;
});

/** CRC-32 (ISO 3309, as PNG chunks use). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * Encodes an HWC image with values in `range` (default [-1, 1]) as an 8-bit PNG (RFC 2083):
 * grayscale for 1 channel, RGB for 3.
 *
 * @example
 * writeFileSync('grid.png', await encodePng(tileImages(images, { columns: 8 })));
 */
export async function encodePng(image: tf.Tensor3D, range: readonly [number, number] = [-1, 1]): Promise<Uint8Array> {
  const { width, height, data } = await toRgbaBytes(image, range);
  const channels = image.shape[2] === 1 ? 1 : 3;
  // 1. Scanlines, each with filter byte 0 (None).
  const raw = Buffer.alloc(height * (1 + width * channels));
  for (let y = 0; y < height; y += 1) {
    const row = y * (1 + width * channels);
    for (let x = 0; x < width; x += 1) {
      for (let channel = 0; channel < channels; channel += 1) raw[row + 1 + x * channels + channel] = data[(y * width + x) * 4 + channel] as number;
    }
  }
  // 2. IHDR: width, height, bit depth 8, colour type 0 (gray) or 2 (RGB), deflate, adaptive filters, no interlace.
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]));
}
