import type { Tensor } from '@tensorflow/tfjs-core';
import { DiffusionError, type NoiseSchedule, type SamplerOptions } from '@tfjs-diffusion/core';
import { sampleDdim } from './ddim.js';
import { sampleDdpm } from './ddpm.js';
import { sampleDpmSolverPlusPlus2M } from './dpm-solver-plus-plus-2m.js';
import { sampleEulerAncestral } from './euler-ancestral.js';
import { sampleEuler } from './euler.js';
import { sampleHeun } from './heun.js';

/** Every sampler of this package by name, for command lines, forms and HTTP APIs. */
export const SAMPLER_NAMES = ['ddpm', 'ddim', 'euler', 'euler-ancestral', 'heun', 'dpm-solver-plus-plus-2m'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];
/** The sigma-space samplers, which can walk Karras et al. (2022) sigmas instead of the schedule's. */
export const KARRAS_SAMPLERS: readonly SamplerName[] = ['euler', 'euler-ancestral', 'heun', 'dpm-solver-plus-plus-2m'];
/** The samplers that take eta (the share of fresh noise per step). */
export const ETA_SAMPLERS: readonly SamplerName[] = ['ddim', 'euler-ancestral'];

export interface NamedSamplerSettings {
  /** Noise of ddim / euler-ancestral in [0, 1]; ignored by the others (default: 0 for ddim, 1 for euler-ancestral). */
  readonly eta?: number;
  /** Karras sigmas, with this many steps, for the KARRAS_SAMPLERS; ignored by ddpm and ddim. */
  readonly karrasSteps?: number;
  /** With karrasSteps on a respaced schedule: the full training schedule that maps sigma to t. */
  readonly trainingSchedule?: NoiseSchedule;
}

/** Runs the sampler called `name` with the common options plus its own (eta, Karras sigmas). */
export function sampleByName(name: SamplerName, options: SamplerOptions, settings: NamedSamplerSettings = {}): Promise<Tensor> {
  const karras =
    settings.karrasSteps !== undefined && KARRAS_SAMPLERS.includes(name)
      ? {
          sigmas: 'karras' as const,
          steps: settings.karrasSteps,
          ...(settings.trainingSchedule ? { trainingSchedule: settings.trainingSchedule } : {}),
        }
      : {};
  const eta = settings.eta === undefined ? {} : { eta: settings.eta };
  switch (name) {
    case 'ddpm':
      return sampleDdpm(options);
    case 'ddim':
      return sampleDdim({ ...options, ...eta });
    case 'euler':
      return sampleEuler({ ...options, ...karras });
    case 'euler-ancestral':
      return sampleEulerAncestral({ ...options, ...karras, ...eta });
    case 'heun':
      return sampleHeun({ ...options, ...karras });
    case 'dpm-solver-plus-plus-2m':
      return sampleDpmSolverPlusPlus2M({ ...options, ...karras });
    default:
      throw new DiffusionError('invalid-argument', `sampler '${String(name)}' is not one of ${SAMPLER_NAMES.join(', ')}`);
  }
}
