import { loadPipeline, type DiffusionPipeline, type PipelineSource } from '@tfjs-diffusion/pipelines';
import { byTestId } from './dom.js';
// the repository's shipped models, bundled as files of the build (no network access beyond the page's origin)
import denoiserUrl from '../../../models/mnist-unet.safetensors?url';
import classifierUrl from '../../../models/mnist-classifier.safetensors?url';

/** What the page loads: a model file and, for classifier guidance, a noise-aware classifier file. */
export interface ModelRequest {
  readonly model: PipelineSource;
  readonly classifier: PipelineSource | null;
  /** For people: the file name or URL. */
  readonly modelName: string;
  readonly classifierName: string | null;
}

/** The shipped MNIST U-Net and its classifier. */
export const SHIPPED_MODELS: ModelRequest = {
  model: denoiserUrl,
  classifier: classifierUrl,
  modelName: 'models/mnist-unet.safetensors',
  classifierName: 'models/mnist-classifier.safetensors',
};

/** `?model=URL[&classifier=URL]` of the page URL, else the shipped models. */
export function modelRequestFromUrl(search: string): ModelRequest {
  const parameters = new URLSearchParams(search);
  const model = parameters.get('model');
  if (model === null || model.trim() === '') return SHIPPED_MODELS;
  const classifier = parameters.get('classifier');
  const hasClassifier = classifier !== null && classifier.trim() !== '';
  return { model, classifier: hasClassifier ? classifier : null, modelName: model, classifierName: hasClassifier ? classifier : null };
}

/** Loads the request with @tfjs-diffusion/pipelines (every metadata field and weight checked before anything is built). */
export function loadRequestedPipeline(request: ModelRequest, signal?: AbortSignal): Promise<DiffusionPipeline> {
  return loadPipeline(request.model, {
    ...(request.classifier === null ? {} : { classifier: request.classifier }),
    ...(signal ? { signal } : {}),
  });
}

/**
 * Wires the model form: a URL (with an optional classifier URL) and Load, a file input, and
 * dropping a file anywhere on the sampling panel; each calls `onRequest`.
 */
export function setUpModelForm(onRequest: (request: ModelRequest) => void): void {
  const url = byTestId('model-url', HTMLInputElement);
  const classifierUrlInput = byTestId('classifier-url', HTMLInputElement);
  const load = byTestId('model-load', HTMLButtonElement);
  const file = byTestId('model-file', HTMLInputElement);
  const classifierFile = byTestId('classifier-file', HTMLInputElement);
  const dropZone = byTestId('panel-sample', HTMLElement);
  const classifierFromForm = (): Pick<ModelRequest, 'classifier' | 'classifierName'> => {
    const chosen = classifierFile.files?.[0];
    if (chosen) return { classifier: chosen, classifierName: chosen.name };
    const text = classifierUrlInput.value.trim();
    return text === '' ? { classifier: null, classifierName: null } : { classifier: text, classifierName: text };
  };
  load.addEventListener('click', () => {
    const text = url.value.trim();
    if (text === '') onRequest(SHIPPED_MODELS);
    else onRequest({ model: text, modelName: text, ...classifierFromForm() });
  });
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen) onRequest({ model: chosen, modelName: chosen.name, ...classifierFromForm() });
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('dropping');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dropping'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('dropping');
    const dropped = event.dataTransfer?.files[0];
    if (dropped) onRequest({ model: dropped, modelName: dropped.name, ...classifierFromForm() });
  });
}
