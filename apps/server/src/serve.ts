import { selectServerBackend } from './server-backend.js';
import { startServer, type RunningServer } from './http-server.js';
import { loadDenoiser, loadNoisyClassifier } from './load-models.js';
import { createSampleService } from './sample-service.js';
import type { ServerConfiguration } from './server-configuration.js';

export interface ServingServer extends RunningServer {
  /** The active tfjs backend and why. */
  readonly backend: { readonly active: string; readonly reason: string };
}

/**
 * Selects the backend, loads the denoiser (and the classifier when configured), starts the
 * batching service and the HTTP server. `close()` shuts down gracefully and frees the models.
 */
export async function serve(configuration: ServerConfiguration, log: (message: string) => void = (message) => console.error(message)): Promise<ServingServer> {
  const backend = await selectServerBackend(configuration.backend);
  log(`backend: ${backend.active} (${backend.reason})`);
  const denoiser = await loadDenoiser(configuration.modelPath);
  const loadedClassifier = configuration.classifierPath === null ? undefined : await loadNoisyClassifier(configuration.classifierPath);
  const { model, schedule } = denoiser;
  log(`model: ${configuration.modelPath} (${denoiser.weights} weights, ${schedule.timesteps.length} timesteps)`);
  if (loadedClassifier) {
    log(`classifier: ${configuration.classifierPath}`);
    if (loadedClassifier.schedule.timesteps.length !== schedule.timesteps.length) {
      log(`warning: the classifier was trained on ${loadedClassifier.schedule.timesteps.length} timesteps, the model on ${schedule.timesteps.length}`);
    }
  } else {
    log('classifier: none (guidance "classifier" is refused)');
  }
  const { imageSize, inChannels } = model.config;
  const service = createSampleService({
    model,
    schedule,
    dataShape: [imageSize, imageSize, inChannels],
    ...(loadedClassifier ? { classifier: loadedClassifier.classifier } : {}),
    maxBatch: configuration.maxBatch,
    maxQueue: configuration.maxQueue,
    batchWindowMilliseconds: configuration.batchWindowMilliseconds,
  });
  let running: RunningServer;
  try {
    running = await startServer({
      service,
      port: configuration.port,
      host: configuration.host,
      maxBodyBytes: configuration.maxBodyBytes,
      backend: backend.active,
      modelPath: configuration.modelPath,
      ...(configuration.classifierPath === null ? {} : { classifierPath: configuration.classifierPath }),
      log,
    });
  } catch (error) {
    model.dispose();
    loadedClassifier?.classifier.dispose();
    throw error;
  }
  return {
    ...running,
    backend: { active: backend.active, reason: backend.reason },
    async close() {
      await running.close();
      model.dispose();
      loadedClassifier?.classifier.dispose();
    },
  };
}
