import { parentPort } from 'node:worker_threads';
import { selectBackend } from '@tfjs-diffusion/backends/node';
import type { BackendName } from '@tfjs-diffusion/core';
import { loadPipeline, type DiffusionPipeline } from '@tfjs-diffusion/pipelines/node';
import type { SamplingWorkerReply, SamplingWorkerRequest } from './sampling-pool.js';
import { generateSettings, guidedModel, sampleBatch } from './sampling.js';

// One sampling worker thread: its own tfjs engine and backend, its own copy of the pipeline
// (denoiser and classifier), drawing the images it is handed with their own seeds.
const port = parentPort;
if (port === null) throw new Error('sampling-worker must run in a worker thread');

let pipeline: DiffusionPipeline | undefined;
let job: Extract<SamplingWorkerRequest, { type: 'init' }>['job'] | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(request: SamplingWorkerRequest): Promise<SamplingWorkerReply> {
  switch (request.type) {
    case 'init': {
      job = request.job;
      await selectBackend(job.backend as BackendName);
      pipeline = await loadPipeline(job.checkpoint, {
        ...(job.weights === 'model' ? { weights: 'raw' as const } : {}),
        ...(job.classifier ? { classifier: job.classifier } : {}),
      });
      return { type: 'ready' };
    }
    case 'generate': {
      if (!pipeline || !job) throw new Error('sampling-worker: generate before init');
      const { images } = await pipeline.generate({
        ...generateSettings(job.settings),
        ...(request.conditional ? { labels: Array.from(request.labels) } : { count: request.labels.length }),
        noiseSeeds: request.noiseSeeds,
        unconditional: request.unconditional,
      });
      const values = (await images.data()) as Float32Array;
      images.dispose();
      return { type: 'images', images: values };
    }
    case 'batch': {
      if (!pipeline || !job) throw new Error('sampling-worker: batch before init');
      const images = await sampleBatch({
        model: guidedModel(pipeline.model, job.settings, pipeline.classifier ?? undefined),
        schedule: pipeline.schedule,
        settings: job.settings,
        labels: request.labels,
        dataShape: job.dataShape,
        seed: request.seed,
      });
      return { type: 'images', images };
    }
    case 'dispose':
      pipeline?.dispose();
      pipeline = undefined;
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
