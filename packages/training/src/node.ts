// Node-only entry: `@tfjs-diffusion/training/node` (checkpoint files, datasets: the data package's main entry reads files); re-exports the browser-safe API.
export * from './index.js';
export { fitBatchSize, imageBatches } from './image-batches.js';
export { loadTrainingCheckpoint, saveShippedModel, saveTrainingCheckpoint } from './training-checkpoint.js';
export type { LoadedTrainingCheckpoint, ModelDescription, TrainingCheckpointInput } from './training-checkpoint.js';
export { checkpointSettings, findResume, findResumableCheckpoint } from './resumable-checkpoint.js';
export type { FoundResume, SettingConflict, SkippedCheckpoint, TrainSettingPath } from './resumable-checkpoint.js';
export { SHIPPED_MODEL_FILE, describeModel, runTraining, type RunTrainingOptions, type RunTrainingResult } from './run-training.js';
export {
  classifierAccuracy,
  heldOutAccuracy,
  trainClassifier,
  type ClassifierTrainingOptions,
  type TrainableClassifier,
} from './classifier-training.js';
export {
  describeClassifier,
  runClassifierTraining,
  type ClassifierRunOptions,
  type ClassifierRunResult,
  type ClassifierShape,
} from './classifier-run.js';
export { runToyDiffusion, type ToyRun, type ToyRunOptions } from './toy-training.js';
