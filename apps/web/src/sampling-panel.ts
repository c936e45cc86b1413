import * as tf from '@tensorflow/tfjs-core';
import type { NoisyClassifier, SamplerStepEvent } from '@tfjs-diffusion/core';
import { countParameters } from '@tfjs-diffusion/networks';
import type { Activity } from './activity.js';
import { byTestId, errorMessage, formatDuration, numberFrom } from './dom.js';
import { drawImageGrid, type GridLayout } from './image-grid.js';
import { sampleDigits } from './sample-digits.js';
import { ETA_SAMPLERS, GUIDANCE_NAMES, KARRAS_SAMPLERS, SAMPLER_NAMES, type GuidanceName, type SamplerName, type SamplingSettings } from './sampling-settings.js';
import { CLASSIFIER_FILE, DENOISER_FILE, loadShippedClassifier, type ShippedDenoiser } from './shipped-models.js';

const MAX_COLUMNS = 8;

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
    modelInfo: byTestId('model-info', HTMLElement),
    liveX: byTestId('live-x', HTMLCanvasElement),
    liveX0: byTestId('live-x0', HTMLCanvasElement),
    liveTimestep: byTestId('live-timestep', HTMLElement),
    output: byTestId('output', HTMLCanvasElement),
    stepTimes: byTestId('step-times', HTMLOListElement),
    stepTimeMean: byTestId('step-time-mean', HTMLElement),
  };
}

function fillOptions(select: HTMLSelectElement, values: readonly string[]): void {
  if (select.options.length > 0) return;
  for (const value of values) select.add(new Option(value, value));
}

/**
 * Wires the sampling tab to the shipped denoiser: reads the form, samples with live x_t and
 * predicted-x0 previews at every step (the samplers' onStep), times each step, and draws the result.
 */
export function setUpSamplingPanel(denoiser: ShippedDenoiser, activity: Activity, onTensorsChanged: () => void): void {
  const elements = samplingElements();
  const { model, schedule } = denoiser;
  const numClasses = model.config.numClasses ?? 0;
  const imageSize = model.config.imageSize;
  fillOptions(elements.classLabel, Array.from({ length: Math.max(1, numClasses) }, (_, label) => String(label)));
  elements.classLabel.value = '3';
  fillOptions(elements.sampler, SAMPLER_NAMES);
  elements.sampler.value = 'ddim';
  elements.guidance.value = 'none';
  elements.modelInfo.textContent =
    `${DENOISER_FILE}: class-conditional ADM U-Net, ${(countParameters(model) / 1e6).toFixed(2)} M parameters, ` +
    `${imageSize}x${imageSize}, ${schedule.kind} schedule with ${schedule.timesteps.length} steps` +
    `${denoiser.metadata['step'] ? `, trained ${denoiser.metadata['step']} steps` : ''} (${denoiser.metadata['weights'] ?? 'model'} weights). ` +
    `Classifier guidance uses ${CLASSIFIER_FILE}.`;

  // classifier guidance differentiates the classifier; tfjs's wasm backend has no filter gradient of conv2d
  const missingGradient = tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined;
  const classifierOption = [...elements.guidance.options].find((option) => option.value === 'classifier');
  if (missingGradient && classifierOption) {
    classifierOption.disabled = true;
    classifierOption.textContent = `classifier (not on ${tf.getBackend()}: no Conv2DBackpropFilter kernel)`;
  }

  let classifier: NoisyClassifier | null = null;
  let abort: AbortController | null = null;

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
  syncControls();

  activity.onChange((kind) => {
    elements.generate.disabled = kind !== 'idle';
    elements.cancel.disabled = kind !== 'sampling';
  });

  const readSettings = (): SamplingSettings => {
    const sampler = elements.sampler.value as SamplerName;
    const chosen = (GUIDANCE_NAMES as readonly string[]).includes(elements.guidance.value) ? (elements.guidance.value as GuidanceName) : 'none';
    const guidance = chosen === 'classifier' && missingGradient ? 'none' : chosen;
    return {
      sampler,
      steps: numberFrom(elements.steps, 20, 1, schedule.timesteps.length, true),
      eta: ETA_SAMPLERS.includes(sampler) ? numberFrom(elements.eta, 0, 0, 1) : 0,
      karras: elements.karras.checked && KARRAS_SAMPLERS.includes(sampler),
      guidance,
      scale: guidance === 'none' ? 0 : numberFrom(elements.scale, 1, 0, 1000),
      classLabel: numberFrom(elements.classLabel, 0, 0, Math.max(0, numClasses - 1), true),
      batchSize: numberFrom(elements.batchSize, 1, 1, 64, true),
      seed: numberFrom(elements.seed, 0, 0, 2 ** 31 - 1, true),
    };
  };

  const generate = async () => {
    const settings = readSettings();
    const layout: GridLayout = { columns: Math.min(MAX_COLUMNS, settings.batchSize), imageSize, scale: settings.batchSize > 1 ? 3 : 4, gap: 2 };
    activity.set('sampling');
    abort = new AbortController();
    elements.stepTimes.replaceChildren();
    elements.stepTimeMean.textContent = '';
    elements.liveTimestep.textContent = '';
    try {
      if (settings.guidance === 'classifier' && settings.scale > 0 && !classifier) {
        elements.status.textContent = `loading ${CLASSIFIER_FILE}`;
        classifier = await loadShippedClassifier();
        onTensorsChanged();
      }
      const stepDurations: number[] = [];
      elements.status.textContent = `generating step 0/${settings.steps}`;
      const started = performance.now();
      let stepStarted = started;
      const onStep = async (event: SamplerStepEvent) => {
        // the step's own work ends when its values reach the host
        const [x, predictedX0] = await Promise.all([event.x.data(), event.predictedX0.data()]);
        const duration = performance.now() - stepStarted;
        stepDurations.push(duration);
        const count = settings.batchSize;
        drawImageGrid(elements.liveX, x as Float32Array, count, layout);
        drawImageGrid(elements.liveX0, predictedX0 as Float32Array, count, layout);
        // the result canvas previews the current predicted x0 until the final samples replace it
        drawImageGrid(elements.output, predictedX0 as Float32Array, count, layout);
        elements.liveTimestep.textContent = `t=${Math.round(event.timestep)}`;
        const item = document.createElement('li');
        item.textContent = `step ${event.stepNumber + 1}/${event.totalSteps} t=${Math.round(event.timestep)}: ${formatDuration(duration)}`;
        elements.stepTimes.append(item);
        elements.status.textContent = `generating step ${event.stepNumber + 1}/${event.totalSteps}`;
        stepStarted = performance.now();
      };
      const values = await sampleDigits({
        model,
        schedule,
        settings,
        labels: new Int32Array(settings.batchSize).fill(settings.classLabel),
        dataShape: [imageSize, imageSize, model.config.inChannels],
        classifier,
        onStep,
        signal: abort.signal,
      });
      const seconds = (performance.now() - started) / 1000;
      drawImageGrid(elements.output, values, settings.batchSize, layout);
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
  elements.status.textContent = 'ready';
  // read by tests and people alike: the tensors left after loading
  onTensorsChanged();
}
