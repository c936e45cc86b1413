import { DiffusionError, type NoiseSchedule } from '@tfjs-diffusion/core';
import { respacedTimesteps } from './respaced-timesteps.js';
import { scheduleFromBetas } from './schedule-from-betas.js';

/**
 * Respaces a full schedule to fewer steps (Improved DDPM, Nichol & Dhariwal 2021, section 4): keeps the
 * original alphaBar at each kept step and recomputes beta_i = 1 - alphaBar[kept_i] / alphaBar[kept_{i-1}].
 */
export function respaceSchedule(schedule: NoiseSchedule, spec: string): NoiseSchedule {
  if (schedule.respacing !== null) {
    throw new DiffusionError(
      'invalid-schedule',
      `cannot respace a schedule that is already respaced (with ${JSON.stringify(schedule.respacing)}); ` + `respace the full schedule instead`,
    );
  }
  const trainingTimesteps = schedule.trainingTimesteps;
  if (schedule.timesteps.length !== trainingTimesteps || schedule.alphaBars.length !== trainingTimesteps) {
    throw new DiffusionError(
      'invalid-schedule',
      `cannot respace: the schedule is not a full schedule (it has ${schedule.timesteps.length} steps, ` +
        `trainingTimesteps is ${trainingTimesteps})`,
    );
  }
  const kept = respacedTimesteps(trainingTimesteps, spec);
  const keptAlphaBars = new Float64Array(kept.length);
  const betas = new Float64Array(kept.length);
  let previousAlphaBar = 1;
  kept.forEach((timestep, index) => {
    // 1. the ORIGINAL alphaBar at each kept step (alphaBar before the first is 1)
    const alphaBar = schedule.alphaBars[timestep] as number;
    keptAlphaBars[index] = alphaBar;
    // 2. beta_i = 1 - alphaBar[kept_i] / alphaBar[kept_{i-1}]
    betas[index] = 1 - alphaBar / previousAlphaBar;
    previousAlphaBar = alphaBar;
  });
  return scheduleFromBetas({ kind: schedule.kind, trainingTimesteps, respacing: spec, timesteps: kept }, betas, keptAlphaBars);
}
