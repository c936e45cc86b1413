import { DiffusionError } from '@tfjs-diffusion/core';

/** A network config as it arrives from JSON or a caller: any keys, any values, checked here. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** Throws `DiffusionError('unknown-option')` naming the first key of `config` not in `allowed`. */
export function rejectUnknownKeys(config: RawConfig, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(config)) {
    if (!allowed.includes(key)) {
      throw new DiffusionError(
        'unknown-option',
        `${what}: unknown option "${key}"; known options are ${allowed.map((name) => `"${name}"`).join(', ')}`,
      );
    }
  }
}

function invalid(what: string, key: string, expected: string, value: unknown): DiffusionError {
  return new DiffusionError('invalid-argument', `${what}: ${key} must be ${expected}, got ${JSON.stringify(value)}`);
}

/** An integer option >= `minimum`; `fallback` when absent (undefined), required when `fallback` is undefined. */
export function readInteger(config: RawConfig, key: string, what: string, minimum: number, fallback?: number): number {
  const value = config[key];
  if (value === undefined) {
    if (fallback === undefined) throw new DiffusionError('invalid-argument', `${what}: ${key} is required`);
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw invalid(what, key, `an integer >= ${minimum}`, value);
  }
  return value;
}

/** An optional integer option >= `minimum`, or null when absent or null. */
export function readOptionalInteger(config: RawConfig, key: string, what: string, minimum: number): number | null {
  if (config[key] === undefined || config[key] === null) return null;
  return readInteger(config, key, what, minimum);
}

/** A finite number in [minimum, maximumExclusive). */
export function readNumber(config: RawConfig, key: string, what: string, minimum: number, maximumExclusive: number, fallback: number): number {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum || value >= maximumExclusive) {
    throw invalid(what, key, `a number in [${minimum}, ${maximumExclusive})`, value);
  }
  return value;
}

export function readBoolean(config: RawConfig, key: string, what: string, fallback: boolean): boolean {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(what, key, 'true or false', value);
  return value;
}

/** One of `choices`; `fallback` when absent. */
export function readChoice<Choice extends string>(
  config: RawConfig,
  key: string,
  what: string,
  choices: readonly Choice[],
  fallback: Choice,
): Choice {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalid(what, key, `one of ${choices.map((choice) => `'${choice}'`).join(', ')}`, value);
  }
  return value as Choice;
}

/** A list of integers >= `minimum`; `fallback` when absent, required when `fallback` is undefined. */
export function readIntegerList(config: RawConfig, key: string, what: string, minimum: number, fallback?: readonly number[]): number[] {
  const value = config[key];
  if (value === undefined) {
    if (fallback === undefined) throw new DiffusionError('invalid-argument', `${what}: ${key} is required`);
    return [...fallback];
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'number' && Number.isInteger(item) && item >= minimum)) {
    throw invalid(what, key, `a list of integers >= ${minimum}`, value);
  }
  return [...(value as number[])];
}

/** A list of finite numbers > `exclusiveMinimum`; `fallback` when absent, required when `fallback` is undefined. */
export function readNumberList(config: RawConfig, key: string, what: string, exclusiveMinimum: number, fallback?: readonly number[]): number[] {
  const value = config[key];
  if (value === undefined) {
    if (fallback === undefined) throw new DiffusionError('invalid-argument', `${what}: ${key} is required`);
    return [...fallback];
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'number' && Number.isFinite(item) && item > exclusiveMinimum)) {
    throw invalid(what, key, `a list of numbers > ${exclusiveMinimum}`, value);
  }
  return [...(value as number[])];
}

/** The seed of a network's initialisation: a finite number or a string; 0 when absent. */
export function readSeed(config: RawConfig, what: string): number | string {
  const value = config.seed;
  if (value === undefined) return 0;
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw invalid(what, 'seed', 'a finite number or a string', value);
}

/** Checks that `type` (when present) is `expected`. */
export function checkType(config: RawConfig, expected: string, what: string): void {
  if (config.type !== undefined && config.type !== expected) {
    throw invalid(what, 'type', `'${expected}'`, config.type);
  }
}

/** Requires a plain object config. */
export function asRawConfig(config: unknown, what: string): RawConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DiffusionError('invalid-argument', `${what}: config must be an object, got ${JSON.stringify(config)}`);
  }
  return config as RawConfig;
}
