export { ADM_SOURCES, admFlagDefaults, parseAdmFlags, splitFlagString } from './adm-flags.js';
export type { AdmFlags, AdmModelKind, AdmSource } from './adm-flags.js';
export { admModelKind, planAdmModel, type AdmFlagStrings, type AdmModelPlan } from './adm-model-config.js';
export { convertAdmCheckpoint, convertAdmCheckpointTo, countTorchParameters, expectedTorchShapes } from './convert-checkpoint.js';
export type { ConversionSummary, ConvertAdmOptions, ConvertedModel } from './convert-checkpoint.js';
export { torchShapeOf, toTfjsLayout } from './torch-layout.js';
export { PUBLISHED_MODELS, publishedModelFlags, type PublishedModel, type PublishedModelName } from './published-models.js';
