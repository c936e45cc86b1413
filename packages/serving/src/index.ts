export {
  createBatchScheduler,
  type BatchScheduler,
  type BatchSchedulerOptions,
  type BatchSchedulerStatus,
  type ModelHealth,
  type SampleResult,
  type SubmitOptions,
} from './batch-scheduler.js';
export { encodeGridPng, gridSize, type GridLayout } from './image-grid.js';
export { createInProcessBackend, jobErrorOf, type InProcessBackendOptions } from './in-process-backend.js';
export {
  DEFAULT_CLASSIFIER_PATH,
  DEFAULT_MODEL_PATH,
  MODELS_DIRECTORY,
  loadServedModel,
  loadServedModels,
  type ModelSpecification,
} from './load-served-model.js';
export { parseModelSpecification, parseModelSpecifications } from './model-specification.js';
export { createQueueBackend, jobBody, type QueueBackendOptions, type SampleJobData } from './queue-backend.js';
export { createQueueWorker, type QueueWorker, type QueueWorkerOptions, type WorkerHeartbeat } from './queue-worker.js';
export { DEFAULT_QUEUE_NAME, heartbeatPrefix, redisConnection } from './redis-connection.js';
export { RequestError, badField, type RequestErrorKind } from './request-error.js';
export { decodeJobError, encodeJobError, type JobError, type JobState, type JobView, type SampleBackend } from './sample-backend.js';
export {
  DEFAULT_STEPS,
  MAX_SCALE,
  MAX_SEED,
  OUTPUT_FORMATS,
  SAMPLE_REQUEST_FIELDS,
  fieldOfPath,
  findModel,
  parseSampleRequest,
  requestLabels,
  resolveSampleRequest,
  sampleRequestSchema,
  type OutputFormat,
  type SampleRequest,
  type SampleRequestBody,
  type SampleRequestLimits,
} from './sample-request.js';
export {
  decodeSampleOutcome,
  encodeSampleOutcome,
  sampleOutcomeJson,
  sampleOutcomePng,
  type EncodedSampleOutcome,
  type SampleOutcome,
} from './sample-result.js';
export {
  createServedModel,
  servedModelFromPipeline,
  type BatchShare,
  type GenerateBatchOptions,
  type ModelDescription,
  type ServedModel,
  type ServedModelParts,
} from './served-model.js';
export { createServingMetrics, type QueueDepth, type ServingMetrics, type ServingMetricsOptions } from './serving-metrics.js';
export {
  ETA_SAMPLERS,
  GUIDANCE_NAMES,
  KARRAS_SAMPLERS,
  SAMPLER_NAMES,
  compatibilityKey,
  type GuidanceName,
  type SamplerName,
  type SamplingSettings,
} from './sampling-settings.js';
