import type { NoiseSchedule } from '@tfjs-diffusion/core';

/** A schedule as plain JSON data (what `tfjs-diffusion schedule --json` prints). */
export interface ScheduleDescription {
  readonly kind: string;
  /** T, the number of training timesteps. */
  readonly timesteps: number;
  /** The respacing spec, or null for a full schedule. */
  readonly respace: string | null;
  /** The original timestep of each step of this schedule. */
  readonly kept: number[];
  readonly betas: number[];
  readonly alphaBars: number[];
}

/** A JSON-safe summary of a (possibly respaced) DDPM noise schedule (Ho et al. 2020). */
export function describeSchedule(schedule: NoiseSchedule): ScheduleDescription {
  return {
    kind: schedule.kind,
    timesteps: schedule.trainingTimesteps,
    respace: schedule.respacing,
    kept: [...schedule.timesteps],
    betas: Array.from(schedule.betas),
    alphaBars: Array.from(schedule.alphaBars),
  };
}
