export { createBatchNoiseSource, type NoisePart } from './batch-noise-source.js';
export { drawBatch, guidedModel, type BatchPart, type DrawBatchOptions } from './draw-batch.js';
export { HttpError, badField } from './http-error.js';
export { startServer, type RunningServer, type StartServerOptions } from './http-server.js';
export { encodeGridPng, gridSize, type GridLayout } from './image-grid.js';
export { DEFAULT_CLASSIFIER_PATH, DEFAULT_MODEL_PATH, loadDenoiser, loadNoisyClassifier, type LoadedClassifier, type LoadedDenoiser } from './load-models.js';
export {
  DEFAULT_STEPS,
  OUTPUT_FORMATS,
  SAMPLE_REQUEST_FIELDS,
  parseSampleRequest,
  requestLabels,
  type OutputFormat,
  type SampleRequest,
  type SampleRequestLimits,
} from './sample-request.js';
export {
  createSampleService,
  type SampleResult,
  type SampleService,
  type SampleServiceOptions,
  type SampleServiceStatus,
} from './sample-service.js';
export { GUIDANCE_NAMES, SAMPLER_NAMES, compatibilityKey, type GuidanceName, type SamplerName, type SamplingSettings } from './sampling-settings.js';
export { SERVER_AUTO_ORDER, selectServerBackend } from './server-backend.js';
export { ConfigurationError, SERVER_USAGE, parseServerConfiguration, type ServerConfiguration } from './server-configuration.js';
export { serve, type ServingServer } from './serve.js';
