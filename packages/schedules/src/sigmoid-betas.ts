import { linspace } from './linspace.js';

/** Sigmoid betas of GeoDiff (Xu et al. 2022; diffusers 'sigmoid'), optionally scaled by 1000 / T. */
export function sigmoidBetas(trainingTimesteps: number, betaStart: number, betaEnd: number, scaleWithTimesteps: boolean): Float64Array {
  // 1. optional s = 1000 / T on the end points (on by default, like the linear schedule)
  const scale = scaleWithTimesteps ? 1000 / trainingTimesteps : 1;
  const start = scale * betaStart;
  const end = scale * betaEnd;
  // 2. beta_t = sigmoid(linspace(-6, 6, T)) * (end - start) + start
  return linspace(-6, 6, trainingTimesteps).map((x) => (1 / (1 + Math.exp(-x))) * (end - start) + start);
}
