export { sampleDdpm } from './ddpm.js';
export { sampleDdim, type DdimOptions } from './ddim.js';
export { sampleEuler } from './euler.js';
export { sampleEulerAncestral, type EulerAncestralOptions } from './euler-ancestral.js';
export { sampleHeun } from './heun.js';
export { sampleDpmSolverPlusPlus2M } from './dpm-solver-plus-plus-2m.js';
export type { SigmaSpacingOptions } from './sigma-space.js';
export { ETA_SAMPLERS, KARRAS_SAMPLERS, SAMPLER_NAMES, sampleByName, type NamedSamplerSettings, type SamplerName } from './sample-by-name.js';

// The sampler kit (stable API): what the samplers above are built from, for users' own samplers.
// A new sampler is its update rule: `runSamplingLoop` brings option checks, seeded x_T, tf.tidy per
// step, onStep previews, abort and tensor ownership; `evaluateModel` (VP) or `denoiseAtSigma`
// (sigma space) brings every prediction kind, clipping and classifier guidance. See
// docs/guides/custom-sampler.md.
export {
  runSamplingLoop,
  validateSamplerOptions,
  standardNormal,
  assertInRange,
  type SamplingPlan,
  type LoopStep,
  type StepOutcome,
} from './sampling-loop.js';
export { evaluateModel, type Evaluation, type GuidanceHandling } from './model-evaluation.js';
export { runSigmaSampler, denoiseAtSigma, sigmaSteps, karrasSigmas, sigmaToTimestep, type SigmaStep, type SigmaDenoising } from './sigma-space.js';
