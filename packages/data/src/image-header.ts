import { inflateSync } from 'node:zlib';
import { DiffusionError } from '@tfjs-diffusion/core';

/** The default bound on width x height of one image file: 4096 x 4096 (64 MiB of RGBA). */
export const DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096;

/** What an image file's header says, read without decoding any pixel data. */
export interface ImageHeader {
  readonly format: 'png' | 'jpeg';
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each PNG colour type (PNG spec, 11.2.2 IHDR). */
const PNG_SAMPLES: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: [x start, y start, x step, y step] (PNG spec, 8.2). */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((value, index) => bytes[index] === value);
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function dataError(message: string): DiffusionError {
  return new DiffusionError('data-error', message);
}

/**
 * Reads width and height from a PNG IHDR chunk or a JPEG SOF segment (ITU T.81, B.2.2) and refuses
 * an empty file, an unknown signature, a truncated header and more than `maxPixels` pixels, all
 * before anything is decoded or allocated.
 */
export function readImageHeader(bytes: Uint8Array, fileName: string, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): ImageHeader {
  if (bytes.length === 0) throw dataError(`image ${fileName} is empty (0 bytes)`);
  let header: ImageHeader;
  if (isPng(bytes)) header = pngHeader(bytes, fileName);
  else if (isJpeg(bytes)) header = jpegHeader(bytes, fileName);
  else throw dataError(`${fileName} is not a PNG or JPEG image (unknown signature)`);
  const { width, height } = header;
  if (!(width > 0 && height > 0)) throw dataError(`image ${fileName}: its header says ${width}x${height} pixels`);
  if (width * height > maxPixels) {
    throw dataError(`image ${fileName}: its header says ${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels}`);
  }
  return header;
}

function pngHeader(bytes: Uint8Array, fileName: string): ImageHeader {
  // signature (8), IHDR length (4) and type (4), then width and height as big-endian uint32
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw dataError(`image ${fileName} is a truncated PNG (no complete IHDR chunk in ${bytes.length} bytes)`);
  }
  const data = view(bytes);
  return { format: 'png', width: data.getUint32(16), height: data.getUint32(20) };
}

function jpegHeader(bytes: Uint8Array, fileName: string): ImageHeader {
  const data = view(bytes);
  let offset = 2;
  // walk the marker segments up to the first SOF (C0..CF except C4 DHT, C8 JPG, CC DAC)
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw dataError(`image ${fileName} is a corrupt JPEG (no marker at byte ${offset})`);
    const marker = bytes[offset + 1] as number;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break;
    const length = data.getUint16(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) break;
      return { format: 'jpeg', height: data.getUint16(offset + 5), width: data.getUint16(offset + 7) };
    }
    offset += 2 + length;
  }
  throw dataError(`image ${fileName} is a truncated JPEG (no frame header in ${bytes.length} bytes)`);
}

/** Bytes of filtered scanlines a PNG of this header must inflate to (PNG spec, 7.2 and 8.2). */
function expectedPngDataLength(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rowBytes = (columns: number): number => 1 + Math.ceil((columns * bitsPerPixel) / 8);
  if (!interlaced) return height * rowBytes(width);
  let total = 0;
  for (const [xStart, yStart, xStep, yStep] of ADAM7) {
    const columns = Math.ceil((width - xStart) / xStep);
    const rows = Math.ceil((height - yStart) / yStep);
    if (columns > 0 && rows > 0) total += rows * rowBytes(columns);
  }
  return total;
}

/**
 * Checks that a PNG's IDAT stream inflates to exactly the bytes its IHDR promises (never more
 * than that is inflated), so a file whose header claims more pixels than its data holds is an
 * error rather than an image padded with black.
 */
export function checkPngData(bytes: Uint8Array, fileName: string): void {
  const data = view(bytes);
  const width = data.getUint32(16);
  const height = data.getUint32(20);
  const bitDepth = bytes[24] as number;
  const colorType = bytes[25] as number;
  const interlaced = bytes[28] === 1;
  const samples = PNG_SAMPLES[colorType];
  if (samples === undefined) throw dataError(`image ${fileName}: PNG colour type ${colorType} is not valid`);
  const expected = expectedPngDataLength(width, height, samples * bitDepth, interlaced);
  // 1. gather the IDAT chunks
  const parts: Uint8Array[] = [];
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = data.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 8 + length;
    if (end + 4 > bytes.length) throw dataError(`image ${fileName} is a truncated PNG (chunk ${type} runs past the end of the file)`);
    if (type === 'IDAT') parts.push(bytes.subarray(offset + 8, end));
    if (type === 'IEND') break;
    offset = end + 4;
  }
  if (parts.length === 0) throw dataError(`image ${fileName} is a truncated PNG (no image data)`);
  // 2. inflate at most one byte more than promised
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(parts), { maxOutputLength: expected + 1, finishFlush: 2 /* Z_SYNC_FLUSH */ });
  } catch (error) {
    const message = (error as Error).message;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return;
    throw dataError(`image ${fileName} is a corrupt PNG (${message})`);
  }
  if (inflated.length < expected) {
    throw dataError(
      `image ${fileName} is a truncated PNG: its header says ${width}x${height} (${expected} bytes of scanlines) but its data inflates to ${inflated.length} bytes`,
    );
  }
}
