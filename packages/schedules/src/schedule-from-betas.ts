import type { NoiseSchedule } from '@tfjs-diffusion/core';

/** What `scheduleFromBetas` needs besides the betas. */
export interface ScheduleIdentity {
  readonly kind: string;
  readonly trainingTimesteps: number;
  readonly respacing: string | null;
  /** Original timestep of each step, strictly increasing. */
  readonly timesteps: readonly number[];
}

/**
 * Fills every derived array of a `NoiseSchedule` from its betas (DDPM, Ho et al. 2020, eqs. 4-7;
 * the clipped log variance as in improved-diffusion). `alphaBars`, when given, are stored as they
 * are (a respaced schedule keeps the ORIGINAL alphaBar of each kept step); otherwise they are the
 * cumulative product of the alphas. Inputs must already be validated.
 */
export function scheduleFromBetas(identity: ScheduleIdentity, betas: ArrayLike<number>, givenAlphaBars?: ArrayLike<number>): NoiseSchedule {
  const count = betas.length;
  const betaValues = Float64Array.from(betas);
  const alphas = new Float64Array(count);
  const alphaBars = new Float64Array(count);
  const alphaBarsPrevious = new Float64Array(count);
  const posteriorVariances = new Float64Array(count);
  const posteriorLogVariancesClipped = new Float64Array(count);
  const posteriorMeanCoefficientsX0 = new Float64Array(count);
  const posteriorMeanCoefficientsXt = new Float64Array(count);
  const sigmas = new Float64Array(count);

  let product = 1;
  for (let index = 0; index < count; index += 1) {
    const beta = betaValues[index] as number;
    // 1. alpha_t = 1 - beta_t
    const alpha = 1 - beta;
    // 2. alphaBar_t = prod_{s <= t} alpha_s (eq. 4 of DDPM), or the original value when respaced
    const alphaBarPrevious = product;
    product = givenAlphaBars ? (givenAlphaBars[index] as number) : product * alpha;
    const alphaBar = product;
    const oneMinusAlphaBar = 1 - alphaBar;
    alphas[index] = alpha;
    alphaBars[index] = alphaBar;
    alphaBarsPrevious[index] = alphaBarPrevious;
    // 3. betaTilde_t = beta_t (1 - alphaBar_{t-1}) / (1 - alphaBar_t), eq. 7 of DDPM (0 at t = 0)
    posteriorVariances[index] = (beta * (1 - alphaBarPrevious)) / oneMinusAlphaBar;
    // 4. posterior mean coefficients of eq. 7: on x0 and on x_t
    posteriorMeanCoefficientsX0[index] = (beta * Math.sqrt(alphaBarPrevious)) / oneMinusAlphaBar;
    posteriorMeanCoefficientsXt[index] = ((1 - alphaBarPrevious) * Math.sqrt(alpha)) / oneMinusAlphaBar;
    // 5. the variance-exploding view, sigma_t = sqrt((1 - alphaBar_t) / alphaBar_t)
    sigmas[index] = Math.sqrt(oneMinusAlphaBar / alphaBar);
  }
  // 6. log betaTilde, with betaTilde_1 standing in at t = 0 where betaTilde_0 = 0 (improved-diffusion);
  //    a one-step schedule has no betaTilde_1, so it uses beta_0 (as core's fixedLargeLogVariance does).
  for (let index = 0; index < count; index += 1) {
    const variance = index > 0 ? posteriorVariances[index] : count > 1 ? posteriorVariances[1] : betaValues[0];
    posteriorLogVariancesClipped[index] = Math.log(variance as number);
  }

  return {
    kind: identity.kind,
    trainingTimesteps: identity.trainingTimesteps,
    respacing: identity.respacing,
    timesteps: Object.freeze([...identity.timesteps]),
    betas: betaValues,
    alphas,
    alphaBars,
    alphaBarsPrevious,
    posteriorVariances,
    posteriorLogVariancesClipped,
    posteriorMeanCoefficientsX0,
    posteriorMeanCoefficientsXt,
    sigmas,
  };
}
