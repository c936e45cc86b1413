/** Samplers of @tfjs-diffusion/samplers the server offers. */
export const SAMPLER_NAMES = ['ddim', 'ddpm', 'euler', 'euler-ancestral', 'heun', 'dpm-solver-plus-plus-2m'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** Guidance kinds: none, classifier-free (Ho & Salimans 2022), classifier (Dhariwal & Nichol 2021). */
export const GUIDANCE_NAMES = ['none', 'cfg', 'classifier'] as const;
export type GuidanceName = (typeof GUIDANCE_NAMES)[number];

/** Samplers that take Karras et al. sigmas. */
export const KARRAS_SAMPLERS: readonly SamplerName[] = ['euler', 'euler-ancestral', 'heun', 'dpm-solver-plus-plus-2m'];
/** Samplers that take eta. */
export const ETA_SAMPLERS: readonly SamplerName[] = ['ddim', 'euler-ancestral'];
/** Samplers that draw fresh noise in their steps (besides x_T). */
export const STOCHASTIC_SAMPLERS: readonly SamplerName[] = ['ddpm', 'ddim', 'euler-ancestral'];

/** How a batch is sampled; requests that share all of these can be sampled together. */
export interface SamplingSettings {
  /** The served model's name. */
  readonly model: string;
  readonly sampler: SamplerName;
  /** Sampling steps: the schedule respaced to linspace:steps (or that many Karras sigmas). */
  readonly steps: number;
  readonly eta: number;
  readonly karras: boolean;
  readonly guidance: GuidanceName;
  /** The guidance scale w; w = 0 means no guidance. */
  readonly scale: number;
}

/** A key equal for exactly the settings that may share one batch. */
export function compatibilityKey(settings: SamplingSettings): string {
  return JSON.stringify([settings.model, settings.sampler, settings.steps, settings.eta, settings.karras, settings.guidance, settings.scale]);
}
