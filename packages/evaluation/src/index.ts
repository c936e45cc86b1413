export { symmetricEigen, sqrtmSymmetric, symmetrize, matMul, meanAndCovariance, frechetDistance, inceptionScore } from './frechet.js';
export {
  classifierStatistics,
  fidBetween,
  classAccuracy,
  withinClassDiversity,
  compareToReference,
  type ClassifierStatistics,
  type SampleMetrics,
} from './sample-statistics.js';
export {
  createEvaluationClassifier,
  evaluationClassifierFromModelFile,
  DEFAULT_EVALUATION_CLASSIFIER_CONFIG,
  type EvaluationClassifier,
  type EvaluationClassifierConfig,
  type FeatureClassifier,
} from './evaluation-classifier.js';
