import * as tf from '@tensorflow/tfjs-core';
import type { Activity } from './activity.js';
import { byTestId, errorMessage, numberFrom, yieldToBrowser } from './dom.js';
import { drawImages } from './draw-images.js';
import { drawLossPlot } from './loss-plot.js';
import type { MnistDigits } from './mnist-digits.js';
import { PREVIEW_LABELS, TrainingSession, type TrainingSettings } from './training-session.js';

/** The training tab's controls and views. */
function trainingElements() {
  return {
    hiddenSize: byTestId('train-hidden-size', HTMLInputElement),
    hiddenLayers: byTestId('train-hidden-layers', HTMLInputElement),
    batchSize: byTestId('train-batch-size', HTMLInputElement),
    learningRate: byTestId('train-learning-rate', HTMLInputElement),
    previewEvery: byTestId('train-preview-every', HTMLInputElement),
    previewSteps: byTestId('train-preview-steps', HTMLInputElement),
    seed: byTestId('train-seed', HTMLInputElement),
    start: byTestId('train-start', HTMLButtonElement),
    stop: byTestId('train-stop', HTMLButtonElement),
    status: byTestId('train-status', HTMLElement),
    step: byTestId('train-step', HTMLElement),
    loss: byTestId('loss', HTMLElement),
    speed: byTestId('train-speed', HTMLElement),
    lossPlot: byTestId('loss-plot', HTMLCanvasElement),
    samples: byTestId('train-samples', HTMLCanvasElement),
    samplesStep: byTestId('train-samples-step', HTMLElement),
    digitCount: byTestId('train-digit-count', HTMLElement),
    conditioning: byTestId('train-conditioning', HTMLElement),
  };
}

/** Steps/s over the last `window` step end times. */
function stepsPerSecond(endTimes: readonly number[], window = 10): number {
  const recent = endTimes.slice(-window - 1);
  if (recent.length < 2) return 0;
  return ((recent.length - 1) * 1000) / ((recent[recent.length - 1] as number) - (recent[0] as number));
}

/** Whether an error is an abort (Stop during a preview). */
function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Wires the training tab: Start trains a fresh MLP denoiser on the bundled digits until Stop,
 * showing the loss of every step (text, plot, and the whole history in the loss element's
 * data-loss-history for tests) and samples of every digit every few steps. Stop takes effect
 * after the step in flight: it is checked after every await, and it aborts a running preview
 * between its sampling steps.
 */
export function setUpTrainingPanel(digits: MnistDigits, activity: Activity, onTensorsChanged: () => void): void {
  const elements = trainingElements();
  elements.digitCount.textContent = String(digits.count);
  let stop: AbortController | null = null;

  activity.onChange((kind) => {
    elements.start.disabled = kind !== 'idle';
    elements.stop.disabled = kind !== 'training';
  });

  const readSettings = (): TrainingSettings => ({
    hiddenSize: numberFrom(elements.hiddenSize, 128, 1, 4096, true),
    hiddenLayers: numberFrom(elements.hiddenLayers, 1, 0, 16, true),
    batchSize: numberFrom(elements.batchSize, 32, 1, digits.count, true),
    learningRate: numberFrom(elements.learningRate, 0.002, 1e-6, 1),
    previewSteps: numberFrom(elements.previewSteps, 20, 1, 1000, true),
    seed: numberFrom(elements.seed, 0, 0, 2 ** 31 - 1, true),
  });

  const showPreview = async (session: TrainingSession, step: number, signal: AbortSignal) => {
    const images = await session.preview(signal);
    try {
      await drawImages(elements.samples, images, PREVIEW_LABELS.length, [-1, 1], 2);
    } finally {
      images.dispose();
    }
    elements.samplesStep.textContent = `after step ${step}`;
  };

  const train = async () => {
    const settings = readSettings();
    const previewEvery = numberFrom(elements.previewEvery, 25, 1, 100_000, true);
    activity.set('training');
    const controller = new AbortController();
    stop = controller;
    const { signal } = controller;
    let session: TrainingSession | null = null;
    let step = 0;
    const endTimes: number[] = [];
    try {
      session = new TrainingSession(digits, settings);
      elements.status.textContent = `training an MLP of ${(session.parameterCount / 1e6).toFixed(2)} M parameters`;
      elements.conditioning.textContent = session.conditional
        ? 'one sample per class 0..9'
        : `10 unconditional samples (the ${tf.getBackend()} backend has no UnsortedSegmentSum kernel, the label embedding's gradient)`;
      elements.loss.textContent = '–';
      elements.loss.dataset['lossHistory'] = '[]';
      endTimes.push(performance.now());
      while (!signal.aborted) {
        const result = await session.step();
        step = result.step;
        endTimes.push(performance.now());
        elements.step.textContent = String(step);
        elements.loss.textContent = result.loss.toFixed(4);
        elements.loss.dataset['lossHistory'] = JSON.stringify(session.lossHistory.map((loss) => Number(loss.toFixed(5))));
        elements.speed.textContent = `${stepsPerSecond(endTimes).toFixed(1)} steps/s`;
        elements.status.textContent = `training step ${step}`;
        drawLossPlot(elements.lossPlot, session.lossHistory);
        if (step % previewEvery === 0 && !signal.aborted) await showPreview(session, step, signal);
        await yieldToBrowser();
      }
      elements.status.textContent = `stopped after ${step} steps`;
    } catch (error) {
      elements.status.textContent = isAbort(error) ? `stopped after ${step} steps` : `error: ${errorMessage(error)}`;
    } finally {
      session?.dispose();
      stop = null;
      activity.set('idle');
      onTensorsChanged();
    }
  };

  elements.start.addEventListener('click', () => void train());
  elements.stop.addEventListener('click', () => {
    stop?.abort();
    elements.status.textContent = 'stopping';
  });
  elements.status.textContent = 'idle';
}
