import { linspace } from './linspace.js';

/** Linear betas of DDPM (Ho et al. 2020), optionally scaled by 1000 / T as in improved-diffusion. */
export function linearBetas(trainingTimesteps: number, betaStart: number, betaEnd: number, scaleWithTimesteps: boolean): Float64Array {
  // 1. s = 1000 / T keeps the total noise of T = 1000 for any T (improved-diffusion)
  const scale = scaleWithTimesteps ? 1000 / trainingTimesteps : 1;
  // 2. beta_t = linspace(s * betaStart, s * betaEnd, T)
  return linspace(scale * betaStart, scale * betaEnd, trainingTimesteps);
}
