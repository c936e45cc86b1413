// @tfjs-diffusion/pipelines/node: the browser-safe API, plus file paths and PNG encoding.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readModelFileBytes, writeFileAtomically } from '@tfjs-diffusion/checkpoints/node';
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelFileMetadataInput } from '@tfjs-diffusion/checkpoints';
import { pipelineFromBytes, type DiffusionPipeline, type LoadPipelineOptions } from './build-pipeline.js';
import { encodePng } from './encode-png.js';
import { isUrlString, readSource, type PipelineSource, type SourceBytes } from './read-source.js';
import { savePipeline, type SavePipelineOptions } from './save-pipeline.js';

export * from './index.js';
export { encodePng } from './encode-png.js';

/** A source in Node: a string that is not a URL is a file path (relative to the working directory); file: URLs are read from disk. */
async function readNodeSource(source: PipelineSource, signal?: AbortSignal): Promise<SourceBytes> {
  if (typeof source === 'string' && !isUrlString(source)) return { bytes: await readModelFileBytes(source), name: source };
  if ((source instanceof URL && source.protocol === 'file:') || (typeof source === 'string' && source.startsWith('file:'))) {
    const path = fileURLToPath(source);
    return { bytes: await readModelFileBytes(path), name: path };
  }
  return readSource(source, signal);
}

/**
 * `loadPipeline` for Node: also takes a file path or a file: URL (errors name the path).
 *
 * @example
 * const pipeline = await loadPipeline('models/mnist-unet.safetensors');
 */
export async function loadPipeline(source: PipelineSource, options: LoadPipelineOptions = {}): Promise<DiffusionPipeline> {
  const denoiser = await readNodeSource(source, options.signal);
  const classifier = options.classifier === undefined ? null : await readNodeSource(options.classifier, options.signal);
  return pipelineFromBytes(denoiser, classifier, options);
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
