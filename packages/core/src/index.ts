export { DiffusionError, assertShape, type DiffusionErrorCode } from './errors.js';
export { samplingSteps, type NoiseSchedule, type SamplingStep } from './noise-schedule.js';
export { createNoiseSource, type NoiseSource, type NoiseSourceState } from './noise-source.js';
export { PREDICTION_KINDS, VARIANCE_KINDS } from './diffusion-model.js';
export type {
  ClassConditioning,
  DiffusionModel,
  ModelCondition,
  ModelInput,
  ModelOutput,
  PredictionKind,
  TrainableDiffusionModel,
  VarianceKind,
} from './diffusion-model.js';
export { perSampleValues, predictionTarget, toX0AndEpsilon, type AlphaBar } from './prediction.js';
export type { Sampler, SamplerOptions, SamplerStepEvent } from './sampler.js';
export type { Objective, ObjectiveInput, ObjectiveResult, TimestepSampler } from './objective.js';
export type { Guidance } from './guidance.js';
export { BACKEND_NAMES, type BackendChoice, type BackendName } from './backend.js';
export { fixedLargeLogVariance, reverseLogVariance } from './variance.js';
export type { NoisyClassifier, TrainableNoisyClassifier } from './classifier.js';
