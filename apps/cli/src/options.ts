import { UsageError } from './cli-error.js';
import type { OptionValues } from './command.js';
import { didYouMean } from './did-you-mean.js';

/** Reads an integer option within bounds, naming the option when it is malformed. */
export function integerOption(values: OptionValues, name: string, fallback: number, minimum = 1, maximum = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(parsed)) {
    throw new UsageError(`--${name} must be an integer in [${minimum}, ${maximum}], got '${String(raw)}'`);
  }
  if (parsed < minimum || parsed > maximum)
    throw new UsageError(`--${name} must be an integer in [${minimum}, ${maximum}], got ${raw}: out of range`);
  return parsed;
}

/** Reads a finite number option within bounds. */
export function numberOption(values: OptionValues, name: string, fallback: number, minimum = -Infinity, maximum = Infinity): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(parsed)) {
    throw new UsageError(`--${name} must be a number in [${minimum}, ${maximum}], got '${String(raw)}'`);
  }
  if (parsed < minimum || parsed > maximum) throw new UsageError(`--${name} must be a number in [${minimum}, ${maximum}], got ${raw}: out of range`);
  return parsed;
}

/** Reads an option restricted to a set of names. */
export function choiceOption<T extends string>(values: OptionValues, name: string, choices: readonly T[], fallback: T): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(
      `--${name} must be one of ${choices.join(', ')}, got '${String(raw)}'${typeof raw === 'string' ? didYouMean(raw, choices) : ''}`,
    );
  }
  return raw as T;
}

/** Reads a string option (undefined when absent). */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** The seed: an integer, or any string (hashed). */
export function seedOption(values: OptionValues, fallback = 0): number | string {
  const raw = stringOption(values, 'seed');
  if (raw === undefined) return fallback;
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}
