import { DiffusionError } from '@tfjs-diffusion/core';

/** Throws `DiffusionError('invalid-schedule')` unless T is a positive integer. */
export function assertTrainingTimesteps(trainingTimesteps: unknown, what = 'timesteps'): asserts trainingTimesteps is number {
  if (typeof trainingTimesteps !== 'number' || !Number.isInteger(trainingTimesteps) || trainingTimesteps <= 0) {
    throw new DiffusionError(
      'invalid-schedule',
      `${what} (T, the number of diffusion steps) must be a positive integer, got ${describeValue(trainingTimesteps)}`,
    );
  }
}

/** Throws `DiffusionError('invalid-schedule')` unless every beta is finite and in (0, 1) and there is at least one. */
export function assertBetas(betas: ArrayLike<number>, what: string, hint = ''): void {
  if (betas === null || typeof betas !== 'object' || typeof betas.length !== 'number') {
    throw new DiffusionError('invalid-schedule', `${what} must be an array of numbers, got ${describeValue(betas)}`);
  }
  if (betas.length === 0) throw new DiffusionError('invalid-schedule', `${what} must not be empty`);
  for (let index = 0; index < betas.length; index += 1) {
    const beta = betas[index];
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0 || beta >= 1) {
      throw new DiffusionError('invalid-schedule', `${what}[${index}] must be a finite number in (0, 1), got ${describeValue(beta)}${hint}`);
    }
  }
}

/** Throws `DiffusionError('invalid-schedule')` unless `value` is a finite number (optionally > 0). */
export function assertFiniteNumber(value: unknown, what: string, positive: boolean): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && value <= 0)) {
    const expected = positive ? 'a finite positive number' : 'a finite number';
    throw new DiffusionError('invalid-schedule', `${what} must be ${expected}, got ${describeValue(value)}`);
  }
}

/** A short, readable rendering of a bad value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}
