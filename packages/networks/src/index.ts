export { ParameterStore, defaultUniformBound, type Initializer, type ParameterSource } from './parameter-store.js';
export type { Conv2dParameters, DenseParameters, GroupNormParameters, PointwiseParameters } from './parameter-store.js';
export { loadParameters, mapParameterSource, readParameters, type HasParameters, type ParameterData } from './load-parameters.js';
export { countParameters } from './count-parameters.js';
export { timestepEmbedding, timestepEmbeddingValues } from './timestep-embedding.js';
export { GROUP_NORM_EPSILON, GROUP_NORM_KERNEL, canFuseGroupNorm, groupNorm, type NormActivation } from './group-norm.js';
export { adaptiveGroupNorm } from './adaptive-group-norm.js';
export { qkvAttention, type QkvOrder } from './attention.js';
export { silu } from './layer-ops.js';
export { createMlpDenoiser, resolveMlpDenoiserConfig } from './mlp-denoiser.js';
export type { MlpDenoiser, MlpDenoiserConfig, ResolvedMlpDenoiserConfig } from './mlp-denoiser.js';
export { createUNet, type NetworkBuildOptions, type SuperResolutionCondition, type UNetModel } from './unet.js';
export { levelChannels, resolveUNetConfig } from './unet-config.js';
export type { ResolvedUNetBackboneConfig, ResolvedUNetConfig, UNetBackboneConfig, UNetConfig } from './unet-config.js';
export { CLASSIFIER_POOLS, createNoiseAwareClassifier, resolveNoiseAwareClassifierConfig } from './noise-aware-classifier.js';
export type {
  ClassifierPool,
  NoiseAwareClassifier,
  NoiseAwareClassifierConfig,
  ResolvedNoiseAwareClassifierConfig,
} from './noise-aware-classifier.js';
export { NETWORK_TYPES, createNetwork, parameterShapes, type NetworkConfig } from './network-factory.js';
export { createEma, emaDecayAt, type Ema, type EmaOptions, type EmaState } from './ema.js';
export { unetPresets, type UNetPresetName } from './unet-presets.js';
