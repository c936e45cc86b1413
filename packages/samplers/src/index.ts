export { sampleDdpm } from './ddpm.js';
export { sampleDdim, type DdimOptions } from './ddim.js';
export { sampleEuler } from './euler.js';
export { sampleEulerAncestral, type EulerAncestralOptions } from './euler-ancestral.js';
export { sampleHeun } from './heun.js';
export { sampleDpmSolverPlusPlus2M } from './dpm-solver-plus-plus-2m.js';
export type { SigmaSpacingOptions } from './sigma-space.js';
export { ETA_SAMPLERS, KARRAS_SAMPLERS, SAMPLER_NAMES, sampleByName, type NamedSamplerSettings, type SamplerName } from './sample-by-name.js';
