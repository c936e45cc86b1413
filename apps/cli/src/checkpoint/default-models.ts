import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiffusionError } from '@tfjs-diffusion/core';

/** The repository's models/ folder, found from this file (src/ or dist/ of apps/cli), so any cwd works. */
export const MODELS_DIRECTORY = fileURLToPath(new URL('../../../../models/', import.meta.url));
export const DEFAULT_DENOISER = `${MODELS_DIRECTORY}mnist-unet.safetensors`;
export const DEFAULT_NOISY_CLASSIFIER = `${MODELS_DIRECTORY}mnist-classifier.safetensors`;
export const DEFAULT_EVALUATION_CLASSIFIER = `${MODELS_DIRECTORY}mnist-evaluation-classifier.safetensors`;

/** Fails early, naming the option and the file, when a default model file is absent. */
export function requireFile(path: string, option: string, how: string): void {
  if (!existsSync(path)) throw new DiffusionError('invalid-argument', `${option}: ${path} does not exist; ${how}`);
}
