import { pipelineFromBytes, type DiffusionPipeline, type LoadPipelineOptions } from './build-pipeline.js';
import { readSource, type PipelineSource } from './read-source.js';

/**
 * Loads a model file (docs/model-format.md) into a pipeline ready to `generate`, like diffusers'
 * `from_pretrained`: from a URL (fetch), a Uint8Array/ArrayBuffer, or a browser Blob/File (Node
 * paths: `@tfjs-diffusion/pipelines/node`). Every metadata field is validated and the weights
 * checked (shapes against the config, no NaN/Inf) before the network is built.
 *
 * @example
 * const pipeline = await loadPipeline('https://example.org/mnist-unet.safetensors');
 * const { images } = await pipeline.generate({ labels: [3, 3], guidance: 'cfg', scale: 2, seed: 1 });
 */
export async function loadPipeline(source: PipelineSource, options: LoadPipelineOptions = {}): Promise<DiffusionPipeline> {
  const denoiser = await readSource(source, options.signal);
  const classifier = options.classifier === undefined ? null : await readSource(options.classifier, options.signal);
  return pipelineFromBytes(denoiser, classifier, options);
}
