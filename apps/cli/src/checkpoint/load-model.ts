import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModelFile } from '@tfjs-diffusion/checkpoints/node';
import { DiffusionError, type DiffusionModel, type NoiseSchedule } from '@tfjs-diffusion/core';
import { createNoiseAwareClassifier, loadParameters, parameterShapes, type NoiseAwareClassifier } from '@tfjs-diffusion/networks';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';

/** The repository's models/ folder, found from this file (src/ or dist/ of apps/cli), so any cwd works. */
export const MODELS_DIRECTORY = fileURLToPath(new URL('../../../../models/', import.meta.url));
export const DEFAULT_DENOISER = `${MODELS_DIRECTORY}mnist-unet.safetensors`;
export const DEFAULT_NOISY_CLASSIFIER = `${MODELS_DIRECTORY}mnist-classifier.safetensors`;
export const DEFAULT_EVALUATION_CLASSIFIER = `${MODELS_DIRECTORY}mnist-evaluation-classifier.safetensors`;

/** Fails early, naming the option and the file, when a default model file is absent. */
export function requireFile(path: string, option: string, how: string): void {
  if (!existsSync(path)) throw new DiffusionError('invalid-argument', `${option}: ${path} does not exist; ${how}`);
}

/** The network config of an image denoiser, with the fields the commands read typed. */
export type DenoiserConfig = Readonly<Record<string, unknown>> & {
  readonly numClasses: number | null;
  readonly imageSize: number;
  readonly inChannels: number;
};

export interface LoadedDenoiser {
  /** The denoiser, with its network config and a dispose that frees its weights. */
  readonly model: DiffusionModel & { readonly config: DenoiserConfig; dispose(): void };
  readonly schedule: NoiseSchedule;
  /** 'ema' when the file's model weights are (or it held) EMA weights, else 'model'. */
  readonly weights: 'ema' | 'model';
  /** The file's step (a training checkpoint's, or the one a shipped model records), if any. */
  readonly step: number | null;
}

/**
 * Loads a denoiser with @tfjs-diffusion/pipelines: a shipped model file, or a training checkpoint
 * (its EMA weights unless `prefer` is 'model'); every error names the file.
 */
export async function loadDenoiser(path: string, prefer: 'ema' | 'model' = 'ema'): Promise<LoadedDenoiser> {
  const pipeline = await loadPipeline(path, prefer === 'model' ? { weights: 'raw' } : {});
  const { model } = pipeline;
  const step = pipeline.metadata.training?.step ?? Number(pipeline.extra['step'] ?? Number.NaN);
  return {
    model: {
      prediction: model.prediction,
      variance: model.variance,
      conditioning: model.conditioning,
      predict: (input) => model.predict(input),
      config: {
        ...pipeline.metadata.network,
        numClasses: pipeline.conditioning?.numClasses ?? null,
        imageSize: pipeline.dataShape[0],
        inChannels: pipeline.dataShape[2],
      },
      dispose: () => pipeline.dispose(),
    },
    schedule: pipeline.schedule,
    weights: pipeline.weights === 'ema' ? 'ema' : 'model',
    step: Number.isFinite(step) ? step : null,
  };
}

/** Loads the noise-aware classifier written by `train-classifier --kind noisy` (pipelines load it with `loadPipeline(file, { classifier })`). */
export async function loadNoisyClassifier(path: string): Promise<{ classifier: NoiseAwareClassifier }> {
  const file = await loadModelFile(path, { decode: 'model', expectedShapes: (metadata) => parameterShapes(metadata.network) });
  if (file.metadata.network.type !== 'classifier')
    throw new DiffusionError('invalid-checkpoint', `${path} holds a '${file.metadata.network.type}' network, not a noise-aware classifier`);
  const classifier = createNoiseAwareClassifier(file.metadata.network);
  try {
    loadParameters(classifier, file.tensors);
  } catch (error) {
    classifier.dispose();
    throw new DiffusionError('invalid-checkpoint', `${path}: ${(error as Error).message}`, { cause: error });
  }
  return { classifier };
}
