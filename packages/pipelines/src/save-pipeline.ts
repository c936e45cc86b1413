import type * as tf from '@tensorflow/tfjs-core';
import { writeModelFile, type HostTensor, type ModelFileMetadataInput, type SafetensorsWriteDtype } from '@tfjs-diffusion/checkpoints';

/** Options of `savePipeline`. */
export interface SavePipelineOptions {
  /** 'F32' (default, exact) or 'F16' (half the size). */
  readonly dtype?: SafetensorsWriteDtype;
  /** Free-form `__metadata__` strings (the command line, settings, ...). */
  readonly extra?: Readonly<Record<string, string>>;
}

/** The host copies of a model's parameters (read asynchronously, so a GPU backend is never blocked). */
export async function hostParameters(parameters: ReadonlyMap<string, tf.Variable>): Promise<Map<string, HostTensor>> {
  const tensors = new Map<string, HostTensor>();
  for (const [name, variable] of parameters) tensors.set(name, { shape: [...variable.shape], data: Float32Array.from(await variable.data()) });
  return tensors;
}

/**
 * Encodes a model and its metadata as a model file (docs/model-format.md) that `loadPipeline` reads:
 * a pipeline (`savePipeline(pipeline, pipeline.metadata)`), or a freshly trained network
 * (`savePipeline(network, { network: network.config, schedule, ... })`).
 *
 * @example
 * const bytes = await savePipeline(pipeline, pipeline.metadata, { dtype: 'F16' });
 */
export async function savePipeline(
  model: { readonly parameters: ReadonlyMap<string, tf.Variable> },
  metadata: ModelFileMetadataInput,
  options: SavePipelineOptions = {},
): Promise<Uint8Array> {
  const { training: _training, formatVersion: _version, ...modelMetadata } = metadata;
  return writeModelFile({
    metadata: modelMetadata,
    tensors: await hostParameters(model.parameters),
    dtype: options.dtype ?? 'F32',
    ...(options.extra ? { extra: options.extra } : {}),
  });
}
