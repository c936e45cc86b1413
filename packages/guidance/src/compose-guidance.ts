import type { DiffusionModel, Guidance } from '@tfjs-diffusion/core';

/**
 * Applies several guidances in order, the first innermost (k-diffusion-style model wrapping), e.g.
 * composeGuidance(classifierFreeGuidance(...), classifierGuidance(...)) for CFG plus ADM classifier guidance.
 */
export function composeGuidance(...guidances: readonly Guidance[]): Guidance {
  return (model: DiffusionModel): DiffusionModel => guidances.reduce((wrapped, guidance) => guidance(wrapped), model);
}
