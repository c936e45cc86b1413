import {
  createBatchScheduler,
  createInProcessBackend,
  createQueueBackend,
  createServingMetrics,
  loadServedModels,
  type BatchScheduler,
  type SampleBackend,
} from '@tfjs-diffusion/serving';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from './build-app.js';
import type { ServerConfiguration } from './server-configuration.js';
import { selectServerBackend } from './server-backend.js';

export interface ServingServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly backend: SampleBackend;
  /** The in-process scheduler (null with --queue). */
  readonly scheduler: BatchScheduler | null;
  /** The active tfjs backend and why (null with --queue: the API does not sample). */
  readonly tfjs: { readonly active: string; readonly reason: string } | null;
  /** Graceful: stops accepting, answers what was accepted, frees models and connections. */
  close(): Promise<void>;
}

/**
 * Starts the API. In process: selects the tfjs backend, loads the models, probes each with a
 * one-step sample (a model that cannot sample makes /healthz say degraded), and batches requests
 * here. With --queue: loads the models only to know their classes, sizes and timesteps, frees
 * them, and enqueues every request as a BullMQ job for the workers.
 */
export async function serve(configuration: ServerConfiguration, log: FastifyBaseLogger): Promise<ServingServer> {
  const tfjs = await selectServerBackend(configuration.backend);
  log.info({ backend: tfjs.active, reason: tfjs.reason }, 'tfjs backend');
  const loaded = await loadServedModels(configuration.models, configuration.classifierPath, (served, specification) => {
    const { numClasses, dataShape, timesteps, classifierUnavailable } = served.description;
    log.info(
      { model: specification.name, file: specification.path, numClasses, shape: dataShape, timesteps, classifier: classifierUnavailable ?? 'yes' },
      'model loaded',
    );
  });
  let scheduler: BatchScheduler | null = null;
  let backend: SampleBackend;
  // the queue depth gauge reads the backend created below
  const metrics = createServingMetrics({ queueDepth: () => backend.queueDepth() });
  if (configuration.queueUrl === null) {
    scheduler = createBatchScheduler({
      models: loaded.models,
      maxBatch: configuration.maxBatch,
      maxQueue: configuration.maxQueue,
      batchWindowMilliseconds: configuration.batchWindowMilliseconds,
      metrics,
    });
    backend = createInProcessBackend({ scheduler });
    await scheduler.probe();
    for (const [name, health] of Object.entries(scheduler.modelHealth())) {
      if (!health.ok) log.error({ model: name, error: health.error }, 'model cannot sample: /healthz says degraded');
    }
  } else {
    const limits = { models: loaded.models.map((model) => model.description), maxSamples: configuration.maxBatch };
    loaded.dispose();
    backend = createQueueBackend({
      url: configuration.queueUrl,
      queueName: configuration.queueName,
      limits,
      maxQueue: configuration.maxQueue,
      jobTimeoutMilliseconds: configuration.jobTimeoutMilliseconds,
    });
    log.info({ queue: configuration.queueUrl, name: configuration.queueName }, 'queue mode: requests become BullMQ jobs');
  }
  const app = await buildApp({
    backend,
    metrics,
    tfjsBackend: configuration.queueUrl === null ? tfjs.active : null,
    maxBodyBytes: configuration.maxBodyBytes,
    headersTimeoutMilliseconds: configuration.headersTimeoutMilliseconds,
    requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds,
    keepAliveTimeoutMilliseconds: configuration.keepAliveTimeoutMilliseconds,
    logger: log,
  });
  app.addHook('onClose', async () => {
    await backend.close();
    if (configuration.queueUrl === null) loaded.dispose();
  });
  let url: string;
  try {
    url = await app.listen({ port: configuration.port, host: configuration.host });
  } catch (error) {
    await app.close();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    url,
    app,
    backend,
    scheduler,
    tfjs: configuration.queueUrl === null ? { active: tfjs.active, reason: tfjs.reason } : null,
    close() {
      closed ??= app.close();
      return closed;
    },
  };
}
