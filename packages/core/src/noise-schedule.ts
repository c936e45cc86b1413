/**
 * A noise schedule as plain data (DDPM, Ho et al. 2020; respacing from Improved DDPM, Nichol &
 * Dhariwal 2021). Every array has one entry per step i = 0..N-1 of THIS schedule, in float64.
 * A respaced schedule keeps the original alphaBar of each kept step and recomputes its betas;
 * `timesteps[i]` is the ORIGINAL timestep of step i, which is what a network is fed.
 * There is no hidden state: samplers iterate explicit (i, i-1) pairs from `samplingSteps`.
 */
export interface NoiseSchedule {
  /** 'linear' | 'cosine' | 'scaled-linear' | 'sigmoid' | 'custom', kept through respacing. */
  readonly kind: string;
  /** T, the number of steps of the schedule the network was trained on. */
  readonly trainingTimesteps: number;
  /** The respacing spec this schedule was made with, or null when it is the full schedule. */
  readonly respacing: string | null;
  /** Original timestep of each step, strictly increasing; 0..T-1 for the full schedule. */
  readonly timesteps: readonly number[];
  /** beta_i (recomputed from alphaBar for a respaced schedule). */
  readonly betas: Float64Array;
  /** alpha_i = 1 - beta_i. */
  readonly alphas: Float64Array;
  /** alphaBar_i = prod_{j<=i} alpha_j; authoritative (a respaced schedule copies the original values exactly). */
  readonly alphaBars: Float64Array;
  /** alphaBar_{i-1}, with 1 before the first step. */
  readonly alphaBarsPrevious: Float64Array;
  /** betaTilde_i = beta_i (1 - alphaBar_{i-1}) / (1 - alphaBar_i), eq. 7 of DDPM; 0 at i = 0. */
  readonly posteriorVariances: Float64Array;
  /** log betaTilde_i, with betaTilde_1 standing in at i = 0 where betaTilde_0 = 0 (beta_0 for a one-step schedule). */
  readonly posteriorLogVariancesClipped: Float64Array;
  /** Posterior mean coefficient on x0: beta_i sqrt(alphaBar_{i-1}) / (1 - alphaBar_i). */
  readonly posteriorMeanCoefficientsX0: Float64Array;
  /** Posterior mean coefficient on x_t: (1 - alphaBar_{i-1}) sqrt(alpha_i) / (1 - alphaBar_i). */
  readonly posteriorMeanCoefficientsXt: Float64Array;
  /** The variance-exploding view: sigma_i = sqrt((1 - alphaBar_i) / alphaBar_i). */
  readonly sigmas: Float64Array;
}

/** One reverse step, from schedule index `index` (timestep t_i) to `previousIndex` (t_{i-1}). */
export interface SamplingStep {
  /** 0 for the first step taken (the noisiest), counting up. */
  readonly stepNumber: number;
  readonly index: number;
  readonly timestep: number;
  /** -1 on the last step, which lands on clean data. */
  readonly previousIndex: number;
  /** -1 on the last step. */
  readonly previousTimestep: number;
}

/** The explicit (t_i, t_{i-1}) pairs of a reverse process, noisiest first. */
export function samplingSteps(schedule: NoiseSchedule): SamplingStep[] {
  const count = schedule.timesteps.length;
  const steps: SamplingStep[] = [];
  for (let index = count - 1; index >= 0; index -= 1) {
    const previousIndex = index - 1;
    steps.push({
      stepNumber: count - 1 - index,
      index,
      timestep: schedule.timesteps[index] as number,
      previousIndex,
      previousTimestep: previousIndex >= 0 ? (schedule.timesteps[previousIndex] as number) : -1,
    });
  }
  return steps;
}
