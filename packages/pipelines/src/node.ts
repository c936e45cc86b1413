// @tfjs-diffusion/pipelines/node: the browser-safe API, plus file paths and PNG encoding.
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fileByteSource, writeFileAtomically } from '@tfjs-diffusion/checkpoints/node';
import { DiffusionError } from '@tfjs-diffusion/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelFileMetadataInput } from '@tfjs-diffusion/checkpoints';
import { pipelineFromBytes, type DiffusionPipeline, type LoadPipelineOptions, type ModelFileInput } from './build-pipeline.js';
import { encodePng } from './encode-png.js';
import { isUrlString, readSource, type PipelineSource } from './read-source.js';
import { savePipeline, type SavePipelineOptions } from './save-pipeline.js';

export * from './index.js';
export { encodePng } from './encode-png.js';

/**
 * A model file on disk, opened to be read by ranges: the header first, then one tensor at a time
 * while the network is built, so the file is never held whole. Errors name the path.
 */
function openModelFile(path: string): ModelFileInput & { close(): void } {
  let problem: string | null = null;
  let cause: unknown;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) problem = 'is a directory, not a model file';
    else if (stats.size === 0) problem = 'is empty (0 bytes)';
  } catch (error) {
    cause = error;
    problem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
  }
  if (problem !== null) throw new DiffusionError('invalid-checkpoint', `model file ${path} ${problem}`, cause === undefined ? undefined : { cause });
  const source = fileByteSource(path);
  return { bytes: source, name: path, close: () => source.close() };
}

/** A source in Node: a string that is not a URL is a file path (relative to the working directory); file: URLs are read from disk. */
async function readNodeSource(source: PipelineSource, opened: Array<{ close(): void }>, signal?: AbortSignal): Promise<ModelFileInput> {
  const local =
    typeof source === 'string' && !isUrlString(source)
      ? source
      : (source instanceof URL && source.protocol === 'file:') || (typeof source === 'string' && source.startsWith('file:'))
        ? fileURLToPath(source)
        : null;
  if (local === null) return readSource(source, signal);
  const file = openModelFile(local);
  opened.push(file);
  return file;
}

/**
 * `loadPipeline` for Node: also takes a file path or a file: URL (errors name the path). A file is
 * read by ranges (its header, then each tensor as the network is built), never held whole.
 *
 * @example
 * const pipeline = await loadPipeline('models/mnist-unet.safetensors');
 */
export async function loadPipeline(source: PipelineSource, options: LoadPipelineOptions = {}): Promise<DiffusionPipeline> {
  const opened: Array<{ close(): void }> = [];
  try {
    const denoiser = await readNodeSource(source, opened, options.signal);
    const classifier = options.classifier === undefined ? null : await readNodeSource(options.classifier, opened, options.signal);
    return pipelineFromBytes(denoiser, classifier, options);
  } finally {
    for (const file of opened) file.close();
  }
}

/** `savePipeline` to a file, atomically (a crash leaves the old file or the new one). */
export async function savePipelineFile(
  path: string,
  model: { readonly parameters: ReadonlyMap<string, tf.Variable> },
  metadata: ModelFileMetadataInput,
  options: SavePipelineOptions = {},
): Promise<void> {
  await writeFileAtomically(path, await savePipeline(model, metadata, options));
}

/** Writes an HWC image (values in `range`, default [-1, 1]) as a PNG file. */
export async function writePng(path: string, image: tf.Tensor3D, range: readonly [number, number] = [-1, 1]): Promise<void> {
  await writeFile(path, await encodePng(image, range));
}
