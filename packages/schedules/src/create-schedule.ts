import { DiffusionError, type NoiseSchedule } from '@tfjs-diffusion/core';
import { cosineBetas } from './cosine-betas.js';
import { linearBetas } from './linear-betas.js';
import { scaledLinearBetas } from './scaled-linear-betas.js';
import { scheduleFromBetas } from './schedule-from-betas.js';
import { SCHEDULE_KINDS, type ScheduleKind, type ScheduleOptions } from './schedule-options.js';
import { assertBetas, assertFiniteNumber, assertTrainingTimesteps, describeValue } from './schedule-validation.js';
import { sigmoidBetas } from './sigmoid-betas.js';

const ALLOWED_OPTIONS: Readonly<Record<ScheduleKind, readonly string[]>> = {
  linear: ['kind', 'timesteps', 'betaStart', 'betaEnd', 'scaleWithTimesteps'],
  cosine: ['kind', 'timesteps', 'offset', 'maxBeta'],
  'scaled-linear': ['kind', 'timesteps', 'betaStart', 'betaEnd', 'scaleWithTimesteps'],
  sigmoid: ['kind', 'timesteps', 'betaStart', 'betaEnd', 'scaleWithTimesteps'],
  custom: ['kind', 'betas'],
};

/**
 * A full noise schedule (DDPM, Ho et al. 2020) from linear (DDPM), cosine (Improved DDPM eq. 17),
 * scaled-linear (Stable Diffusion), sigmoid (GeoDiff) or custom betas, with every derived array in float64.
 */
export function createSchedule(options: ScheduleOptions): NoiseSchedule {
  if (options === null || typeof options !== 'object') {
    throw new DiffusionError('invalid-schedule', `schedule options must be an object, got ${describeValue(options)}`);
  }
  const kind: unknown = options.kind;
  if (typeof kind !== 'string' || !(SCHEDULE_KINDS as readonly string[]).includes(kind)) {
    throw new DiffusionError(
      'invalid-schedule',
      `unknown schedule kind ${describeValue(kind)}; expected one of ${SCHEDULE_KINDS.map((name) => `'${name}'`).join(', ')}`,
    );
  }
  const allowed = ALLOWED_OPTIONS[kind as ScheduleKind];
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new DiffusionError(
        'unknown-option',
        `unknown option '${key}' for a '${kind}' schedule; allowed: ${allowed.filter((name) => name !== 'kind').join(', ')}`,
      );
    }
  }

  if (options.kind === 'custom') {
    assertBetas(options.betas, 'custom schedule betas');
    const count = options.betas.length;
    return scheduleFromBetas({ kind: 'custom', trainingTimesteps: count, respacing: null, timesteps: range(count) }, options.betas);
  }

  const trainingTimesteps = options.timesteps;
  assertTrainingTimesteps(trainingTimesteps, `${options.kind} schedule timesteps`);
  const betas = betasOf(options, trainingTimesteps);
  assertBetas(betas, `${options.kind} schedule betas`, ` (check the options of this ${options.kind} schedule with T = ${trainingTimesteps})`);
  return scheduleFromBetas({ kind: options.kind, trainingTimesteps, respacing: null, timesteps: range(trainingTimesteps) }, betas);
}

function betasOf(options: Exclude<ScheduleOptions, { kind: 'custom' }>, trainingTimesteps: number): Float64Array {
  switch (options.kind) {
    case 'linear':
      return linearBetas(
        trainingTimesteps,
        positive(options.betaStart, 1e-4, 'linear schedule betaStart'),
        positive(options.betaEnd, 0.02, 'linear schedule betaEnd'),
        flag(options.scaleWithTimesteps, true, 'linear schedule scaleWithTimesteps'),
      );
    case 'cosine': {
      const offset = options.offset ?? 0.008;
      assertFiniteNumber(offset, 'cosine schedule offset', false);
      if (offset < 0) throw new DiffusionError('invalid-schedule', `cosine schedule offset must be >= 0, got ${offset}`);
      const maxBeta = options.maxBeta ?? 0.999;
      assertFiniteNumber(maxBeta, 'cosine schedule maxBeta', true);
      if (maxBeta >= 1) throw new DiffusionError('invalid-schedule', `cosine schedule maxBeta must be < 1, got ${maxBeta}`);
      return cosineBetas(trainingTimesteps, offset, maxBeta);
    }
    case 'scaled-linear':
      return scaledLinearBetas(
        trainingTimesteps,
        positive(options.betaStart, 0.00085, 'scaled-linear schedule betaStart'),
        positive(options.betaEnd, 0.012, 'scaled-linear schedule betaEnd'),
        flag(options.scaleWithTimesteps, false, 'scaled-linear schedule scaleWithTimesteps'),
      );
    case 'sigmoid':
      return sigmoidBetas(
        trainingTimesteps,
        positive(options.betaStart, 1e-4, 'sigmoid schedule betaStart'),
        positive(options.betaEnd, 0.02, 'sigmoid schedule betaEnd'),
        flag(options.scaleWithTimesteps, true, 'sigmoid schedule scaleWithTimesteps'),
      );
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const chosen = value ?? fallback;
  assertFiniteNumber(chosen, what, true);
  return chosen;
}

function flag(value: boolean | undefined, fallback: boolean, what: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new DiffusionError('invalid-schedule', `${what} must be true or false, got ${describeValue(value)}`);
  return value;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}
