import { DiffusionError } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { OBJECTIVE_NAMES, createObjective } from './create-objective.js';

describe('createObjective', () => {
  it('creates each objective by its name', () => {
    for (const name of OBJECTIVE_NAMES) expect(createObjective(name).name).toBe(name);
    expect(createObjective('hybrid', { vlbWeight: 0.01, prediction: 'v' }).name).toBe('hybrid');
    expect(createObjective('kl', { rescaled: false, vlbWeight: undefined }).name).toBe('kl');
  });

  it('rejects an unknown name with unknown-option, listing the valid names', () => {
    let caught: unknown;
    try {
      createObjective('vlb');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DiffusionError);
    expect((caught as DiffusionError).code).toBe('unknown-option');
    expect((caught as DiffusionError).message).toBe(`unknown objective "vlb"; expected one of 'simple', 'hybrid', 'kl'`);
  });

  it('rejects options that do not apply to the chosen objective', () => {
    expect(() => createObjective('simple', { vlbWeight: 0.001 })).toThrow(
      /option 'vlbWeight' does not apply to the 'simple' objective; it accepts 'prediction'/,
    );
    expect(() => createObjective('kl', { prediction: 'x0' })).toThrow(/does not apply to the 'kl' objective; it accepts 'rescaled'/);
    expect(() => createObjective('hybrid', { vlbWeight: Number.NaN })).toThrow(/vlbWeight must be a finite number/);
  });
});
