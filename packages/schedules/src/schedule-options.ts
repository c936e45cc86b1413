/** Options shared by the schedules defined by a step count T. */
interface TimestepCount {
  /** T, the number of diffusion steps the network is trained on (a positive integer). */
  readonly timesteps: number;
}

/**
 * Linear betas (DDPM, Ho et al. 2020): linspace(s * betaStart, s * betaEnd, T) with s = 1000 / T
 * when `scaleWithTimesteps` (the default, as improved-diffusion does), so any T has the same
 * total noise as T = 1000. Defaults: betaStart 1e-4, betaEnd 0.02. With the scaling, T must be above
 * 20 (so that 0.02 * 1000 / T < 1); smaller T are rejected unless `scaleWithTimesteps` is false.
 */
export interface LinearScheduleOptions extends TimestepCount {
  readonly kind: 'linear';
  readonly betaStart?: number;
  readonly betaEnd?: number;
  readonly scaleWithTimesteps?: boolean;
}

/**
 * Cosine alphaBar (Improved DDPM, Nichol & Dhariwal 2021, eq. 17):
 * f(u) = cos((u + offset) / (1 + offset) * pi/2)^2, beta_t = min(1 - f((t+1)/T) / f(t/T), maxBeta).
 * Defaults: offset 0.008, maxBeta 0.999.
 */
export interface CosineScheduleOptions extends TimestepCount {
  readonly kind: 'cosine';
  readonly offset?: number;
  readonly maxBeta?: number;
}

/**
 * Scaled-linear betas (Stable Diffusion / diffusers 'scaled_linear'):
 * linspace(sqrt(betaStart), sqrt(betaEnd), T)^2. Defaults: betaStart 0.00085, betaEnd 0.012, and
 * NO 1000 / T scaling (as diffusers does) unless `scaleWithTimesteps` is true.
 */
export interface ScaledLinearScheduleOptions extends TimestepCount {
  readonly kind: 'scaled-linear';
  readonly betaStart?: number;
  readonly betaEnd?: number;
  readonly scaleWithTimesteps?: boolean;
}

/**
 * Sigmoid betas (GeoDiff, Xu et al. 2022; diffusers 'sigmoid'):
 * sigmoid(linspace(-6, 6, T)) * (betaEnd - betaStart) + betaStart. Defaults: betaStart 1e-4 and
 * betaEnd 0.02, both scaled by 1000 / T like the linear schedule unless `scaleWithTimesteps` is false
 * (diffusers does not scale; set it to false to match diffusers for T != 1000).
 */
export interface SigmoidScheduleOptions extends TimestepCount {
  readonly kind: 'sigmoid';
  readonly betaStart?: number;
  readonly betaEnd?: number;
  readonly scaleWithTimesteps?: boolean;
}

/** Betas given directly: T = betas.length, each beta finite and in (0, 1). */
export interface CustomScheduleOptions {
  readonly kind: 'custom';
  readonly betas: ArrayLike<number>;
}

export type ScheduleOptions =
  LinearScheduleOptions | CosineScheduleOptions | ScaledLinearScheduleOptions | SigmoidScheduleOptions | CustomScheduleOptions;

export type ScheduleKind = ScheduleOptions['kind'];

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['linear', 'cosine', 'scaled-linear', 'sigmoid', 'custom'];
