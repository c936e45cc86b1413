import { DiffusionError, type DiffusionModel, type Guidance, type NoisyClassifier } from '@tfjs-diffusion/core';
import { classifierFreeGuidance } from './classifier-free-guidance.js';
import { classifierGuidance } from './classifier-guidance.js';

/** The guidance kinds by name, for command lines, forms and HTTP APIs. */
export const GUIDANCE_NAMES = ['none', 'cfg', 'classifier'] as const;
export type GuidanceName = (typeof GUIDANCE_NAMES)[number];

export interface GuidanceByNameOptions {
  /** The guidance scale w >= 0; w = 0 means no guidance. */
  readonly scale: number;
  /** The noise-aware classifier, required by 'classifier'. */
  readonly classifier?: NoisyClassifier;
}

/**
 * The guidance called `name`: 'none' (the model itself), 'cfg' (classifier-free, Ho & Salimans 2022)
 * or 'classifier' (Dhariwal & Nichol 2021, Algorithms 1 and 2), at `scale`.
 */
export function guidanceByName(name: GuidanceName, options: GuidanceByNameOptions): Guidance {
  switch (name) {
    case 'none':
      return (model: DiffusionModel) => model;
    case 'cfg':
      return classifierFreeGuidance({ scale: options.scale });
    case 'classifier':
      if (!options.classifier) throw new DiffusionError('invalid-argument', "guidance 'classifier' needs a noise-aware classifier");
      return classifierGuidance({ classifier: options.classifier, scale: options.scale });
    default:
      throw new DiffusionError('invalid-argument', `guidance '${String(name)}' is not one of ${GUIDANCE_NAMES.join(', ')}`);
  }
}
