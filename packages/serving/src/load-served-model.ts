import { fileURLToPath } from 'node:url';
import { loadPipeline, type DiffusionPipeline } from '@tfjs-diffusion/pipelines/node';
import { servedModelFromPipeline, type ServedModel } from './served-model.js';

/** The repository's models/ folder, found from this file (src/ or dist/ of packages/serving), so any cwd works. */
export const MODELS_DIRECTORY = fileURLToPath(new URL('../../../models/', import.meta.url));
export const DEFAULT_MODEL_PATH = `${MODELS_DIRECTORY}mnist-unet.safetensors`;
export const DEFAULT_CLASSIFIER_PATH = `${MODELS_DIRECTORY}mnist-classifier.safetensors`;

/** A `--model NAME=FILE` entry. */
export interface ModelSpecification {
  readonly name: string;
  readonly path: string;
}

/**
 * Loads a model file with loadPipeline (any pipeline file: classes, image size, channels and
 * schedule come from the file) as a ServedModel named `name`. The classifier file, when given,
 * is loaded with it; if the pair does not fit (another class count or schedule), the model is
 * served without classifier guidance and `classifierUnavailable` says why.
 */
export async function loadServedModel(specification: ModelSpecification, classifierPath: string | null = null): Promise<ServedModel> {
  let pipeline: DiffusionPipeline;
  let classifierUnavailable: string | undefined;
  if (classifierPath === null) {
    pipeline = await loadPipeline(specification.path);
  } else {
    try {
      pipeline = await loadPipeline(specification.path, { classifier: classifierPath });
    } catch (error) {
      pipeline = await loadPipeline(specification.path);
      classifierUnavailable = `the classifier ${classifierPath} does not fit this model: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (
      classifierUnavailable === undefined &&
      pipeline.classifier !== null &&
      pipeline.conditioning !== null &&
      pipeline.classifier.numClasses !== pipeline.conditioning.numClasses
    ) {
      classifierUnavailable = `the classifier has ${pipeline.classifier.numClasses} classes, the model ${pipeline.conditioning.numClasses}`;
    }
  }
  return servedModelFromPipeline(specification.name, specification.path, pipeline, classifierUnavailable);
}

/**
 * Loads every model of `specifications` with loadServedModel (the same classifier for each),
 * calling `onLoaded` after each; if one fails, frees those already loaded and rethrows.
 */
export async function loadServedModels(
  specifications: readonly ModelSpecification[],
  classifierPath: string | null,
  onLoaded?: (model: ServedModel, specification: ModelSpecification) => void,
): Promise<{ models: ServedModel[]; dispose: () => void }> {
  const models: ServedModel[] = [];
  const dispose = (): void => {
    for (const model of models) model.dispose();
  };
  try {
    for (const specification of specifications) {
      const served = await loadServedModel(specification, classifierPath);
      models.push(served);
      onLoaded?.(served, specification);
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return { models, dispose };
}
