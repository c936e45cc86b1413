export { createUniformTimestepSampler, type UniformTimestepSampler, type UniformTimestepSamplerState } from './uniform-timestep-sampler.js';
export {
  createImportanceTimestepSampler,
  type ImportanceTimestepSampler,
  type ImportanceTimestepSamplerOptions,
  type ImportanceTimestepSamplerState,
} from './importance-timestep-sampler.js';
export { normalKl } from './normal-kl.js';
export { approxStandardNormalCdf, discretizedGaussianLogLikelihood } from './discretized-gaussian.js';
export { stopGradient } from './stop-gradient.js';
export { forwardDiffuse } from './forward-diffuse.js';
export { posteriorMeanAndVariance } from './posterior.js';
export { reverseMeanAndLogVariance, type ReverseProcessInput } from './reverse-process.js';
export { vlbTerms, type VlbTermsInput, type VlbTermsResult } from './vlb-terms.js';
export { priorBitsPerDim } from './prior-bits-per-dim.js';
export { predictionSquaredError, type PredictionErrorInput } from './prediction-error.js';
export { createSimpleObjective, type SimpleObjectiveOptions } from './simple-objective.js';
export { createHybridObjective, type HybridObjectiveOptions } from './hybrid-objective.js';
export { createKlObjective, type KlObjectiveOptions } from './kl-objective.js';
export { evaluateBitsPerDim, type BitsPerDimResult, type BitsPerDimStepEvent, type EvaluateBitsPerDimOptions } from './evaluate-bits-per-dim.js';
export { datasetBitsPerDim, type DatasetBitsPerDim, type DatasetBitsPerDimOptions } from './dataset-bits-per-dim.js';
export { OBJECTIVE_NAMES, createObjective, type ObjectiveName, type ObjectiveOptions } from './create-objective.js';
