import { DiffusionError } from '@tfjs-diffusion/core';
import { linspace } from './linspace.js';
import { roundHalfEven } from './round-half-even.js';
import { assertTrainingTimesteps, describeValue } from './schedule-validation.js';

const SPEC_FORMS = "expected 'ddimN', section counts such as '250' or '10,15,20', or 'leading:N', 'trailing:N', 'linspace:N'";

const NAMED_SPACINGS = ['leading', 'trailing', 'linspace'] as const;
type NamedSpacing = (typeof NAMED_SPACINGS)[number];

/**
 * The original timesteps kept by a respacing spec, ascending: improved-diffusion's `space_timesteps`
 * (Nichol & Dhariwal 2021, section 4: "ddimN" and section counts "250", "10,15,20") and the
 * diffusers spacings "leading:N", "trailing:N", "linspace:N" (Lin et al. 2024, table 2).
 */
export function respacedTimesteps(trainingTimesteps: number, spec: string): number[] {
  assertTrainingTimesteps(trainingTimesteps, 'respacing: trainingTimesteps');
  if (typeof spec !== 'string') {
    throw new DiffusionError('invalid-schedule', `respacing spec must be a string, got ${describeValue(spec)}; ${SPEC_FORMS}`);
  }
  const text = spec.trim();
  if (text === '') throw new DiffusionError('invalid-schedule', `respacing spec is empty; ${SPEC_FORMS}`);
  const fail = (problem: string): never => {
    throw new DiffusionError('invalid-schedule', `invalid respacing spec ${JSON.stringify(spec)}: ${problem}`);
  };

  let kept: number[];
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const name = text.slice(0, colon).trim();
    if (!(NAMED_SPACINGS as readonly string[]).includes(name)) {
      return fail(`unknown spacing '${name}'; ${SPEC_FORMS}`);
    }
    const count = parseStepCount(text.slice(colon + 1), `'${name}:' step count`, fail);
    assertAtMost(count, trainingTimesteps, fail);
    kept = namedSpacing(name as NamedSpacing, trainingTimesteps, count);
  } else if (text.startsWith('ddim')) {
    const count = parseStepCount(text.slice('ddim'.length), "'ddim' step count", fail);
    assertAtMost(count, trainingTimesteps, fail);
    kept = ddimSpacing(trainingTimesteps, count, fail);
  } else {
    if (!/^[\d\s,.+\-eE]*$/.test(text)) return fail(`not a step count or a known spacing; ${SPEC_FORMS}`);
    const counts = text.split(',').map((part, section) => parseStepCount(part, `section ${section + 1}`, fail));
    const total = counts.reduce((sum, count) => sum + count, 0);
    assertAtMost(total, trainingTimesteps, fail);
    kept = sectionSpacing(trainingTimesteps, counts, fail);
  }
  assertKeptTimesteps(kept, trainingTimesteps, spec);
  return kept;
}

/**
 * Throws `DiffusionError('invalid-schedule')` unless the kept timesteps are integers in [0, T)
 * and strictly increasing (no step kept twice).
 */
export function assertKeptTimesteps(kept: readonly number[], trainingTimesteps: number, spec: string): void {
  if (kept.length === 0) throw new DiffusionError('invalid-schedule', `respacing spec ${JSON.stringify(spec)} keeps no steps`);
  kept.forEach((timestep, position) => {
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= trainingTimesteps) {
      throw new DiffusionError(
        'invalid-schedule',
        `respacing spec ${JSON.stringify(spec)} keeps timestep ${timestep}, outside 0..${trainingTimesteps - 1}`,
      );
    }
    const previous = kept[position - 1];
    if (previous !== undefined && timestep <= previous) {
      throw new DiffusionError(
        'invalid-schedule',
        timestep === previous
          ? `respacing spec ${JSON.stringify(spec)} keeps timestep ${timestep} twice (duplicate kept steps)`
          : `respacing spec ${JSON.stringify(spec)} keeps timesteps out of order (${previous} then ${timestep})`,
      );
    }
  });
}

/** Parses one step count: plain digits, at least 1. */
function parseStepCount(raw: string, what: string, fail: (problem: string) => never): number {
  const text = raw.trim();
  if (text === '') return fail(`${what} is missing`);
  if (!/^\d+$/.test(text)) {
    const value = Number(text);
    if (!Number.isFinite(value)) return fail(`${what} ${JSON.stringify(text)} is not a number`);
    if (value < 0) return fail(`${what} must be a positive integer, got negative ${text}`);
    if (!Number.isInteger(value)) return fail(`${what} must be an integer, got non-integer ${text}`);
    return fail(`${what} must be written as plain digits, got ${JSON.stringify(text)}`);
  }
  const value = Number(text);
  if (value === 0) return fail(`${what} must be at least 1, got zero`);
  return value;
}

function assertAtMost(count: number, trainingTimesteps: number, fail: (problem: string) => never): void {
  if (count > trainingTimesteps) {
    fail(`asks for ${count} steps, more steps than the schedule's T = ${trainingTimesteps}`);
  }
}

/** improved-diffusion "ddimN": the integer stride whose range(0, T, stride) has exactly N steps. */
function ddimSpacing(trainingTimesteps: number, count: number, fail: (problem: string) => never): number[] {
  // 1. try strides 1, 2, ... (improved-diffusion stops at T - 1; stride T, keeping only 0, is allowed here too)
  for (let stride = 1; stride <= trainingTimesteps; stride += 1) {
    // 2. len(range(0, T, stride)) = ceil(T / stride)
    if (Math.ceil(trainingTimesteps / stride) === count) {
      return Array.from({ length: count }, (_, index) => index * stride);
    }
  }
  return fail(`cannot take exactly ${count} steps from T = ${trainingTimesteps} with an integer stride`);
}

/** improved-diffusion section counts: T split into equal sections, each spaced by a fractional stride. */
function sectionSpacing(trainingTimesteps: number, counts: readonly number[], fail: (problem: string) => never): number[] {
  // 1. sections of T // n steps, the first T % n of them one step longer
  const sizePerSection = Math.floor(trainingTimesteps / counts.length);
  const extra = trainingTimesteps % counts.length;
  const kept: number[] = [];
  let sectionStart = 0;
  counts.forEach((count, section) => {
    const size = sizePerSection + (section < extra ? 1 : 0);
    if (size < count) fail(`section ${section + 1} has ${size} steps and cannot be divided into ${count}`);
    // 2. fractional stride (size - 1) / (count - 1), 1 for a single step
    const stride = count <= 1 ? 1 : (size - 1) / (count - 1);
    // 3. accumulate the stride and round half to even, as Python's round() does in respace.py
    let position = 0;
    for (let step = 0; step < count; step += 1) {
      kept.push(sectionStart + roundHalfEven(position));
      position += stride;
    }
    sectionStart += size;
  });
  return kept;
}

/** diffusers' timestep_spacing: 'leading', 'trailing' and 'linspace' (with steps_offset 0), ascending. */
function namedSpacing(name: NamedSpacing, trainingTimesteps: number, count: number): number[] {
  switch (name) {
    case 'leading': {
      // 1. arange(0, N) * (T // N)
      const stride = Math.floor(trainingTimesteps / count);
      return Array.from({ length: count }, (_, index) => index * stride);
    }
    case 'trailing': {
      // 1. round(arange(T, 0, -T / N)) - 1, with arange's values start + i * delta as NumPy fills them
      const first = trainingTimesteps;
      const second = trainingTimesteps + -(trainingTimesteps / count);
      const delta = second - first;
      const values = Array.from({ length: count }, (_, index) => (index === 0 ? first : index === 1 ? second : first + index * delta));
      // 2. ascending order
      return values.map((value) => roundHalfEven(value) - 1).reverse();
    }
    case 'linspace':
      // 1. round(linspace(0, T - 1, N))
      return Array.from(linspace(0, trainingTimesteps - 1, count), roundHalfEven);
  }
}
