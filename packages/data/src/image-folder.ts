import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { ImageDataset } from './image-dataset.js';
import { checkPngData, DEFAULT_MAX_IMAGE_PIXELS, readImageHeader } from './image-header.js';
import { resizeCoverCrop } from './resize.js';

/** Options of `loadImageFolder`. */
export interface ImageFolderOptions {
  /** A folder of images, or of class sub-folders of images (labels = sorted sub-folder names). */
  readonly directory: string;
  /** Output side: images are resized to cover size x size, then centre-cropped. */
  readonly size: number;
  /** 1: grayscale (Rec. 601 luma), 3: RGB. */
  readonly channels: 1 | 3;
  /** Largest width x height a file may declare; checked from its header before decoding. Default 4096 x 4096. */
  readonly maxPixels?: number;
  /** Skip files that cannot be decoded (each reported through `onWarning`) instead of failing. Default false. */
  readonly skipBadImages?: boolean;
  /** Receives one line per skipped file with `skipBadImages`; default `console.warn`. */
  readonly onWarning?: (message: string) => void;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * Loads PNG/JPEG files into an NHWC dataset in [-1, 1]: resized to cover size x size (area average
 * down, bilinear up), centre-cropped, alpha composited over black; sub-folders give the labels.
 */
export async function loadImageFolder(options: ImageFolderOptions): Promise<ImageDataset> {
  const { directory, size, channels } = options;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) {
    throw new DiffusionError('invalid-argument', `loadImageFolder: maxPixels must be a positive integer, got ${String(maxPixels)}`);
  }
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new DiffusionError('invalid-argument', `loadImageFolder: size must be a positive integer, got ${size}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new DiffusionError('invalid-argument', `loadImageFolder: channels must be 1 or 3, got ${String(channels)}`);
  }
  const entries = await listDirectory(directory);
  const classFolders = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  const rootImages = imageNames(entries);

  // 1. Files with their labels: one class per sub-folder, or a single unlabelled class.
  const files: [string, number][] = [];
  if (classFolders.length > 0) {
    if (rootImages.length > 0) {
      throw new DiffusionError(
        'data-error',
        `image folder ${directory} mixes images (${rootImages[0]}) with class sub-folders; put every image in a class folder`,
      );
    }
    for (const [label, folder] of classFolders.entries()) {
      const path = join(directory, folder);
      const names = imageNames(await listDirectory(path));
      if (names.length === 0) throw new DiffusionError('data-error', `class folder ${path} has no PNG or JPEG images`);
      for (const name of names) files.push([join(path, name), label]);
    }
  } else {
    if (rootImages.length === 0) throw new DiffusionError('data-error', `image folder ${directory} has no PNG or JPEG images`);
    for (const name of rootImages) files.push([join(directory, name), 0]);
  }

  // 2. Decode, convert, resize and scale each image.
  //    A bad file fails the load, or with skipBadImages is reported and left out.
  const imageSize = size * size * channels;
  let images = new Float32Array(files.length * imageSize);
  let labels = new Int32Array(files.length);
  let index = 0;
  for (const [file, label] of files) {
    let decoded: { width: number; height: number; data: Uint8Array };
    try {
      decoded = decodeImage(await readImageFile(file), file, maxPixels);
    } catch (error) {
      if (!options.skipBadImages) throw error;
      (options.onWarning ?? console.warn)(`skipping ${(error as Error).message}`);
      continue;
    }
    const pixels = toChannels(decoded.data, decoded.width, decoded.height, channels);
    const resized = resizeCoverCrop(pixels, decoded.width, decoded.height, channels, size);
    for (let position = 0; position < imageSize; position += 1) {
      images[index * imageSize + position] = Math.min(1, Math.max(-1, (resized[position] as number) / 127.5 - 1));
    }
    labels[index] = label;
    index += 1;
  }
  if (index === 0) throw new DiffusionError('data-error', `image folder ${directory}: none of its ${files.length} images could be decoded`);
  if (index < files.length) {
    images = images.slice(0, index * imageSize);
    labels = labels.slice(0, index);
  }
  return {
    images,
    labels,
    count: index,
    height: size,
    width: size,
    channels,
    numClasses: Math.max(1, classFolders.length),
    ...(classFolders.length > 0 ? { classNames: classFolders } : {}),
  };
}

/**
 * An RGBA image decoded from PNG (pngjs) or JPEG (jpeg-js), chosen by the file's signature bytes.
 * The header's width x height is bounded by `maxPixels` before decoding, and a PNG whose data is
 * shorter than its header promises is refused (never padded with black).
 */
export function decodeImage(
  bytes: Uint8Array,
  fileName: string,
  maxPixels = DEFAULT_MAX_IMAGE_PIXELS,
): { width: number; height: number; data: Uint8Array } {
  const header = readImageHeader(bytes, fileName, maxPixels);
  const isPng = header.format === 'png';
  if (isPng) checkPngData(bytes, fileName);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = isPng
      ? PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      : jpeg.decode(bytes, {
          useTArray: true,
          formatAsRGBA: true,
          maxResolutionInMP: maxPixels / 1e6,
          maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / 2 ** 20) + 64,
        });
  } catch (error) {
    const message = (error as Error).message;
    // pngjs says 'read requests waitng on finished stream' (sic) when the file ends early
    if (isPng && /finished stream|unexpected end|premature end/i.test(message)) {
      throw new DiffusionError('data-error', `image ${fileName} is a truncated PNG (${message})`, { cause: error });
    }
    throw new DiffusionError('data-error', `cannot decode image ${fileName}: ${message}`, { cause: error });
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0) || data.length !== width * height * 4) {
    throw new DiffusionError('data-error', `cannot decode image ${fileName}: got ${width}x${height} with ${data.length} bytes`);
  }
  return { width, height, data };
}

/** RGBA bytes -> HWC floats in [0, 255]: alpha composited over black, then RGB or Rec. 601 luma. */
function toChannels(rgba: Uint8Array, width: number, height: number, channels: 1 | 3): Float32Array {
  const result = new Float32Array(width * height * channels);
  for (let pixel = 0; pixel < width * height; pixel += 1) {
    const alpha = (rgba[pixel * 4 + 3] as number) / 255;
    const red = (rgba[pixel * 4] as number) * alpha;
    const green = (rgba[pixel * 4 + 1] as number) * alpha;
    const blue = (rgba[pixel * 4 + 2] as number) * alpha;
    if (channels === 1) {
      result[pixel] = 0.299 * red + 0.587 * green + 0.114 * blue;
    } else {
      result[pixel * 3] = red;
      result[pixel * 3 + 1] = green;
      result[pixel * 3 + 2] = blue;
    }
  }
  return result;
}

async function listDirectory(directory: string) {
  try {
    return await readdir(directory, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be read (${(error as Error).message})`;
    throw new DiffusionError('data-error', `image folder ${directory} ${problem}`, { cause: error });
  }
}

function imageNames(entries: { name: string; isFile(): boolean; isSymbolicLink(): boolean }[]): string[] {
  return entries
    .filter(
      (entry) => (entry.isFile() || entry.isSymbolicLink()) && !entry.name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()),
    )
    .map((entry) => entry.name)
    .sort();
}

async function readImageFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new DiffusionError('data-error', `cannot read image ${file}: ${(error as Error).message}`, { cause: error });
  }
}
