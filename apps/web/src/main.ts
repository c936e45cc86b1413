import * as tf from '@tensorflow/tfjs-core';
import { createActivity } from './activity.js';
import { activateBackend, backendRequestFromUrl } from './backend.js';
import { byTestId, errorMessage } from './dom.js';
import { loadMnistDigits } from './mnist-digits.js';
import { modelRequestFromUrl, setUpModelForm } from './model-loading.js';
import { setUpSamplingPanel } from './sampling-panel.js';
import { setUpTrainingPanel } from './training-panel.js';

/** Shows one tab's panel and hides the other. */
function setUpTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('.tab')];
  const panels = [...document.querySelectorAll<HTMLElement>('.panel')];
  for (const tab of tabs) {
    tab.addEventListener('click', () => {
      for (const other of tabs) other.classList.toggle('active', other === tab);
      for (const panel of panels) panel.hidden = panel.dataset['panel'] !== tab.dataset['tab'];
    });
  }
}

async function start(): Promise<void> {
  const activity = createActivity('loading');
  const status = byTestId('status', HTMLElement);
  const trainStatus = byTestId('train-status', HTMLElement);
  const tensors = byTestId('tensors', HTMLElement);
  const backendChoice = byTestId('backend-choice', HTMLSelectElement);
  const onTensorsChanged = () => (tensors.textContent = String(tf.memory().numTensors));
  setUpTabs();

  const requested = backendRequestFromUrl(window.location.search);
  backendChoice.value = requested;
  backendChoice.addEventListener('change', () => {
    const url = new URL(window.location.href);
    if (backendChoice.value === 'auto') url.searchParams.delete('backend');
    else url.searchParams.set('backend', backendChoice.value);
    window.location.assign(url);
  });

  try {
    status.textContent = 'selecting backend';
    const selection = await activateBackend(requested);
    byTestId('backend', HTMLElement).textContent = selection.active;
    byTestId('backend-reason', HTMLElement).textContent = `(${selection.reason})`;
    const adapter = selection.webgpuAdapter;
    byTestId('webgpu-adapter', HTMLElement).textContent = adapter
      ? `${adapter.name}${adapter.software ? `: software (${adapter.softwareBecause})` : ': hardware'}`
      : 'not looked at';
    const sampling = setUpSamplingPanel(activity, onTensorsChanged);
    setUpModelForm((request) => void sampling.load(request));
    const [digits] = await Promise.all([loadMnistDigits(), sampling.load(modelRequestFromUrl(window.location.search))]);
    setUpTrainingPanel(digits, activity, onTensorsChanged);
    activity.set('idle');
  } catch (error) {
    status.textContent = `error: ${errorMessage(error)}`;
    trainStatus.textContent = status.textContent;
  }
}

void start();
