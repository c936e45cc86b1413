// Node-only entry: `@tfjs-diffusion/evaluation/node` (reads model files from paths); re-exports the browser-safe API.
import { loadModelFile } from '@tfjs-diffusion/checkpoints/node';
import { evaluationClassifierFromModelFile, type EvaluationClassifier } from './evaluation-classifier.js';

export * from './index.js';

/** Loads the evaluation classifier stored at `path` (e.g. models/mnist-evaluation-classifier.safetensors); errors name the path. */
export async function loadEvaluationClassifier(path: string): Promise<EvaluationClassifier> {
  return evaluationClassifierFromModelFile(await loadModelFile(path));
}
