import { parentPort } from 'node:worker_threads';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import type { BackendName, DiffusionModel } from '@tfjs-diffusion/core';
import { loadDenoiser, loadNoisyClassifier } from '../checkpoint/load-model.js';
import type { SamplingWorkerReply, SamplingWorkerRequest } from './sampling-pool.js';
import { guidedModel, sampleBatch } from './sampling.js';

// One sampling worker thread: its own tfjs engine and backend, its own copy of the denoiser (and
// classifier), drawing whole batches with their own seeds (see sampleImagesInWorkers).
const port = parentPort;
if (port === null) throw new Error('sampling-worker must run in a worker thread');

let loaded: { model: DiffusionModel; dispose(): void; schedule: Awaited<ReturnType<typeof loadDenoiser>>['schedule'] } | undefined;
let job: Extract<SamplingWorkerRequest, { type: 'init' }>['job'] | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(request: SamplingWorkerRequest): Promise<SamplingWorkerReply> {
  switch (request.type) {
    case 'init': {
      job = request.job;
      await selectBackend(job.backend as BackendName);
      const denoiser = await loadDenoiser(job.checkpoint, job.weights);
      const noisy = job.classifier ? await loadNoisyClassifier(job.classifier) : undefined;
      loaded = {
        model: guidedModel(denoiser.model, job.settings, noisy?.classifier),
        schedule: denoiser.schedule,
        dispose() {
          denoiser.model.dispose();
          noisy?.classifier.dispose();
        },
      };
      return { type: 'ready' };
    }
    case 'batch': {
      if (!loaded || !job) throw new Error('sampling-worker: batch before init');
      const images = await sampleBatch({
        model: loaded.model,
        schedule: loaded.schedule,
        settings: job.settings,
        labels: request.labels,
        dataShape: job.dataShape,
        seed: request.seed,
      });
      return { type: 'images', images };
    }
    case 'dispose':
      loaded?.dispose();
      loaded = undefined;
      return { type: 'disposed' };
  }
}

port.on('message', (message: { id: number; request: SamplingWorkerRequest }) => {
  queue = queue.then(async () => {
    try {
      const reply = await handle(message.request);
      port.postMessage({ id: message.id, ok: true, reply });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: message.id, ok: false, message: failure.message });
    }
    if (message.request.type === 'dispose') port.close();
  });
});
