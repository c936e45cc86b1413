import { GUIDANCE_NAMES, type GuidanceName } from '@tfjs-diffusion/guidance';
import type { DiffusionPipeline, GenerateOptions, GenerateStepEvent } from '@tfjs-diffusion/pipelines';
import { ETA_SAMPLERS, KARRAS_SAMPLERS, SAMPLER_NAMES, type SamplerName } from '@tfjs-diffusion/samplers';
import type { Activity } from './activity.js';
import { byTestId, errorMessage, formatDuration, numberFrom } from './dom.js';
import { drawImages } from './draw-images.js';
import { loadRequestedPipeline, type ModelRequest } from './model-loading.js';

const MAX_COLUMNS = 8;
/** Canvas pixels per image pixel, so that a 28x28 digit and a 64x64 photo both show at a readable size. */
const zoomFor = (imageSize: number) => Math.max(1, Math.round(112 / imageSize));

/** The sampling tab's controls and views. */
function samplingElements() {
  return {
    classLabel: byTestId('class', HTMLSelectElement),
    guidance: byTestId('guidance', HTMLSelectElement),
    scale: byTestId('scale', HTMLInputElement),
    sampler: byTestId('sampler', HTMLSelectElement),
    steps: byTestId('steps', HTMLInputElement),
    eta: byTestId('eta', HTMLInputElement),
    karras: byTestId('karras', HTMLInputElement),
    seed: byTestId('seed', HTMLInputElement),
    batchSize: byTestId('batch-size', HTMLInputElement),
    generate: byTestId('generate', HTMLButtonElement),
    cancel: byTestId('cancel', HTMLButtonElement),
    status: byTestId('status', HTMLElement),
    progress: byTestId('progress', HTMLProgressElement),
    modelInfo: byTestId('model-info', HTMLElement),
    modelClasses: byTestId('model-classes', HTMLElement),
    liveX: byTestId('live-x', HTMLCanvasElement),
    liveX0: byTestId('live-x0', HTMLCanvasElement),
    liveTimestep: byTestId('live-timestep', HTMLElement),
    output: byTestId('output', HTMLCanvasElement),
    stepTimes: byTestId('step-times', HTMLOListElement),
    stepTimeMean: byTestId('step-time-mean', HTMLElement),
  };
}

/** One line about a loaded pipeline, from its metadata. */
function describePipeline(pipeline: DiffusionPipeline, request: ModelRequest): string {
  const parameters = [...pipeline.parameters.values()].reduce((sum, variable) => sum + variable.size, 0);
  const [height, width, channels] = pipeline.dataShape;
  const { metadata } = pipeline;
  const conditioning = pipeline.conditioning ? `class-conditional (${pipeline.conditioning.numClasses} classes)` : 'unconditional';
  return (
    `${request.modelName}: ${conditioning} ${String(metadata.network['type'])}, ${(parameters / 1e6).toFixed(2)} M parameters, ` +
    `${height}x${width}x${channels}, ${pipeline.schedule.kind} schedule with ${pipeline.schedule.timesteps.length} steps, ` +
    `${metadata.prediction} prediction, ${pipeline.weights} weights. ` +
    (pipeline.classifier
      ? `Classifier guidance uses ${request.classifierName ?? 'the given classifier'}.`
      : 'No classifier loaded: classifier guidance is off.')
  );
}

/** The class names a pipeline offers: its file's names, else the indices; [] for an unconditional model. */
function classNamesOf(pipeline: DiffusionPipeline): string[] {
  const classes = pipeline.conditioning?.numClasses ?? pipeline.classifier?.numClasses ?? 0;
  return Array.from({ length: classes }, (_, label) => pipeline.classNames?.[label] ?? String(label));
}

export interface SamplingPanel {
  /** Loads a model file (and classifier), replacing the current one; the form follows its classes, shape and schedule. */
  load(request: ModelRequest): Promise<void>;
}

/**
 * Wires the sampling tab to a pipeline of @tfjs-diffusion/pipelines: reads the form, calls
 * `generate` with live x_t and predicted-x0 previews at every step, times each step, and draws
 * the result.
 */
export function setUpSamplingPanel(activity: Activity, onTensorsChanged: () => void): SamplingPanel {
  const elements = samplingElements();
  let pipeline: DiffusionPipeline | null = null;
  let abort: AbortController | null = null;

  for (const name of SAMPLER_NAMES) elements.sampler.add(new Option(name, name));
  elements.sampler.value = 'ddim';

  const syncControls = () => {
    const sampler = elements.sampler.value as SamplerName;
    elements.eta.disabled = !ETA_SAMPLERS.includes(sampler);
    elements.karras.disabled = !KARRAS_SAMPLERS.includes(sampler);
    elements.scale.disabled = elements.guidance.value === 'none';
    if (sampler === 'euler-ancestral' && elements.eta.dataset['touched'] !== 'yes') elements.eta.value = '1';
    if (sampler === 'ddim' && elements.eta.dataset['touched'] !== 'yes') elements.eta.value = '0';
  };
  elements.sampler.addEventListener('change', syncControls);
  elements.guidance.addEventListener('change', syncControls);
  elements.eta.addEventListener('input', () => (elements.eta.dataset['touched'] = 'yes'));

  activity.onChange((kind) => {
    elements.generate.disabled = kind !== 'idle' || pipeline === null;
    elements.cancel.disabled = kind !== 'sampling';
  });

  /** Fills the form for the loaded pipeline: classes, which guidance it supports, the steps' bound. */
  const showPipeline = (loaded: DiffusionPipeline, request: ModelRequest) => {
    const classes = classNamesOf(loaded);
    elements.classLabel.replaceChildren(
      ...classes.map((name, label) => new Option(name === String(label) ? name : `${label}: ${name}`, String(label))),
    );
    if (classes.length === 0) elements.classLabel.add(new Option('(unconditional)', '-1'));
    elements.classLabel.disabled = classes.length === 0;
    elements.classLabel.value = classes.length > 3 ? '3' : classes.length > 0 ? '0' : '-1';
    elements.modelClasses.textContent = classes.length === 0 ? 'none (unconditional)' : classes.join(', ');
    const available: Record<GuidanceName, string | null> = {
      none: null,
      cfg: loaded.conditioning?.nullClass == null ? 'the model has no null class' : null,
      classifier: loaded.classifier === null ? 'no classifier loaded' : null,
    };
    for (const option of elements.guidance.options) {
      const why = available[option.value as GuidanceName] ?? null;
      option.disabled = why !== null;
      option.textContent = option.dataset['label'] ?? option.textContent;
      option.dataset['label'] = option.textContent ?? '';
      if (why !== null) option.textContent = `${option.dataset['label']} (${why})`;
    }
    if (elements.guidance.selectedOptions[0]?.disabled) elements.guidance.value = 'none';
    elements.steps.max = String(loaded.schedule.timesteps.length);
    elements.modelInfo.textContent = describePipeline(loaded, request);
    syncControls();
  };

  const load = async (request: ModelRequest) => {
    if (abort) abort.abort();
    activity.set('loading');
    elements.status.textContent = `loading ${request.modelName}`;
    try {
      const loaded = await loadRequestedPipeline(request);
      pipeline?.dispose();
      pipeline = loaded;
      showPipeline(loaded, request);
      elements.status.textContent = 'ready';
    } catch (error) {
      elements.status.textContent = `error: ${errorMessage(error)}`;
    } finally {
      activity.set('idle');
      onTensorsChanged();
    }
  };

  const readOptions = (loaded: DiffusionPipeline): GenerateOptions & { count: number; steps: number } => {
    const sampler = elements.sampler.value as SamplerName;
    const chosen = (GUIDANCE_NAMES as readonly string[]).includes(elements.guidance.value) ? (elements.guidance.value as GuidanceName) : 'none';
    const guidance = elements.guidance.selectedOptions[0]?.disabled ? 'none' : chosen;
    const count = numberFrom(elements.batchSize, 1, 1, 64, true);
    const classes = classNamesOf(loaded).length;
    const label = numberFrom(elements.classLabel, 0, 0, Math.max(0, classes - 1), true);
    return {
      ...(classes > 0 ? { labels: Array.from({ length: count }, () => label) } : {}),
      count,
      sampler,
      steps: numberFrom(elements.steps, 20, 1, loaded.schedule.timesteps.length, true),
      ...(ETA_SAMPLERS.includes(sampler) ? { eta: numberFrom(elements.eta, 0, 0, 1) } : {}),
      karras: elements.karras.checked && KARRAS_SAMPLERS.includes(sampler),
      guidance,
      scale: guidance === 'none' ? 0 : numberFrom(elements.scale, 1, 0, 1000),
      seed: numberFrom(elements.seed, 0, 0, 2 ** 31 - 1, true),
      batchSize: Math.min(count, 16),
    };
  };

  const generate = async () => {
    const loaded = pipeline;
    if (!loaded) return;
    const options = readOptions(loaded);
    const range = loaded.metadata.data.range;
    const zoom = zoomFor(Math.max(loaded.dataShape[0], loaded.dataShape[1])) * (options.count > 1 ? 0.75 : 1);
    const columns = Math.min(MAX_COLUMNS, options.count);
    activity.set('sampling');
    abort = new AbortController();
    elements.stepTimes.replaceChildren();
    elements.stepTimeMean.textContent = '';
    elements.liveTimestep.textContent = '';
    const batchCount = Math.ceil(options.count / (options.batchSize ?? options.count));
    const totalSteps = options.steps * batchCount;
    elements.progress.max = totalSteps;
    elements.progress.value = 0;
    const stepDurations: number[] = [];
    elements.status.textContent = `generating step 0/${options.steps}`;
    const started = performance.now();
    let stepStarted = started;
    const onStep = async (event: GenerateStepEvent) => {
      // the step's own work ends when its values reach the host
      await Promise.all([event.x.data(), event.predictedX0.data()]);
      const duration = performance.now() - stepStarted;
      stepDurations.push(duration);
      await drawImages(elements.liveX, event.x, columns, range, zoom);
      await drawImages(elements.liveX0, event.predictedX0, columns, range, zoom);
      // the result canvas previews the current predicted x0 until the final samples replace it
      await drawImages(elements.output, event.predictedX0, columns, range, zoom);
      elements.liveTimestep.textContent = `t=${Math.round(event.timestep)}`;
      const batch = event.batchCount > 1 ? ` (batch ${event.batchIndex + 1}/${event.batchCount})` : '';
      const item = document.createElement('li');
      item.textContent = `step ${event.step + 1}/${event.totalSteps}${batch} t=${Math.round(event.timestep)}: ${formatDuration(duration)}`;
      elements.stepTimes.append(item);
      elements.progress.value = event.batchIndex * event.totalSteps + event.step + 1;
      elements.status.textContent = `generating step ${event.step + 1}/${event.totalSteps}${batch}`;
      stepStarted = performance.now();
    };
    try {
      const { images } = await loaded.generate({ ...options, onStep, signal: abort.signal });
      try {
        await drawImages(elements.output, images, columns, range, zoom);
      } finally {
        images.dispose();
      }
      const seconds = (performance.now() - started) / 1000;
      const mean = stepDurations.reduce((sum, duration) => sum + duration, 0) / Math.max(1, stepDurations.length);
      elements.stepTimeMean.textContent = `(mean ${formatDuration(mean)} per step, first ${formatDuration(stepDurations[0] ?? 0)})`;
      elements.status.textContent = `done in ${seconds.toFixed(1)} s`;
    } catch (error) {
      elements.status.textContent = error instanceof Error && error.name === 'AbortError' ? 'cancelled' : `error: ${errorMessage(error)}`;
    } finally {
      abort = null;
      activity.set('idle');
      onTensorsChanged();
    }
  };

  elements.generate.addEventListener('click', () => void generate());
  elements.cancel.addEventListener('click', () => abort?.abort());
  // read by tests and people alike: the tensors left after loading
  onTensorsChanged();
  return { load };
}
