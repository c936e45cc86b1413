import { linspace } from './linspace.js';

/** Scaled-linear betas of Latent/Stable Diffusion (Rombach et al. 2022; diffusers 'scaled_linear'). */
export function scaledLinearBetas(trainingTimesteps: number, betaStart: number, betaEnd: number, scaleWithTimesteps: boolean): Float64Array {
  // 1. optional s = 1000 / T on the end points (off by default, as in diffusers)
  const scale = scaleWithTimesteps ? 1000 / trainingTimesteps : 1;
  // 2. beta_t = linspace(sqrt(s * betaStart), sqrt(s * betaEnd), T)^2
  const roots = linspace(Math.sqrt(scale * betaStart), Math.sqrt(scale * betaEnd), trainingTimesteps);
  return roots.map((root) => root * root);
}
