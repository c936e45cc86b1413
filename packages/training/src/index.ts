export { Adam, type AdamOptions, type AdamState } from './adam.js';
export { dropClassLabelTensor, dropClassLabels } from './class-dropout.js';
export { clipByGlobalNorm, globalNorm } from './gradient-clipping.js';
export { warmupLearningRate } from './learning-rate.js';
export { Trainer, type BatchSource, type StepHook, type TrainStepResult, type TrainerOptions, type TrainerState } from './trainer.js';
export { MNIST_TEST, MNIST_TINY, NOISY_CLASSIFIER_CONFIG, TRAINING_NETWORK_PRESETS } from './training-presets.js';
export { lossSummary, meanOfLast, smoothLoss, type LossSummary } from './loss-history.js';
export { createTrainingRun, scheduleFromSpec, type ScheduleSpec, type TrainSettings, type TrainingRun } from './training-run.js';
