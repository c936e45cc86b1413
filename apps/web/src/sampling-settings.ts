/** The samplers of @tfjs-diffusion/samplers the page offers. */
export const SAMPLER_NAMES = ['ddim', 'ddpm', 'euler', 'euler-ancestral', 'heun', 'dpm-solver-plus-plus-2m'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export const GUIDANCE_NAMES = ['none', 'cfg', 'classifier'] as const;
export type GuidanceName = (typeof GUIDANCE_NAMES)[number];

/** Samplers with an eta (noise) setting, and those that can walk Karras et al. sigmas. */
export const ETA_SAMPLERS: readonly SamplerName[] = ['ddim', 'euler-ancestral'];
export const KARRAS_SAMPLERS: readonly SamplerName[] = ['euler', 'euler-ancestral', 'heun', 'dpm-solver-plus-plus-2m'];

/** Everything one Generate click uses. */
export interface SamplingSettings {
  readonly sampler: SamplerName;
  /** Sampling steps: the training schedule respaced to linspace:steps (or that many Karras sigmas). */
  readonly steps: number;
  /** Noise of ddim / euler-ancestral in [0, 1]. */
  readonly eta: number;
  readonly karras: boolean;
  readonly guidance: GuidanceName;
  /** The guidance scale w; w = 0 means no guidance. */
  readonly scale: number;
  /** The digit every image of the batch is conditioned on. */
  readonly classLabel: number;
  readonly batchSize: number;
  readonly seed: number;
}
