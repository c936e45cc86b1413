import { DiffusionError, type Objective, type PredictionKind } from '@tfjs-diffusion/core';
import { createHybridObjective } from './hybrid-objective.js';
import { createKlObjective } from './kl-objective.js';
import { createSimpleObjective } from './simple-objective.js';

export type ObjectiveName = 'simple' | 'hybrid' | 'kl';

export const OBJECTIVE_NAMES: readonly ObjectiveName[] = ['simple', 'hybrid', 'kl'];

/** Options of every objective; each objective accepts only its own. */
export interface ObjectiveOptions {
  /** 'simple' and 'hybrid': the space of the squared error (the model's own kind by default). */
  readonly prediction?: PredictionKind;
  /** 'hybrid': lambda of L_simple + lambda L_vlb (default 0.001). */
  readonly vlbWeight?: number;
  /** 'kl': multiply the sampled term by the number of steps (default true). */
  readonly rescaled?: boolean;
}

const ALLOWED_OPTIONS: Readonly<Record<ObjectiveName, readonly (keyof ObjectiveOptions)[]>> = {
  simple: ['prediction'],
  hybrid: ['prediction', 'vlbWeight'],
  kl: ['rescaled'],
};

/**
 * An objective by name: 'simple' (DDPM eq. 14), 'hybrid' (Improved DDPM eq. 16) or 'kl' (the
 * variational bound, DDPM eq. 5). Unknown names and options that do not apply throw.
 */
export function createObjective(name: ObjectiveName | string, options: ObjectiveOptions = {}): Objective {
  if (!(OBJECTIVE_NAMES as readonly string[]).includes(name)) {
    throw new DiffusionError(
      'unknown-option',
      `unknown objective ${JSON.stringify(name)}; expected one of ${OBJECTIVE_NAMES.map((known) => `'${known}'`).join(', ')}`,
    );
  }
  const objectiveName = name as ObjectiveName;
  const allowed = ALLOWED_OPTIONS[objectiveName];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!(allowed as readonly string[]).includes(key)) {
      throw new DiffusionError(
        'unknown-option',
        `option '${key}' does not apply to the '${objectiveName}' objective; it accepts ${allowed.length > 0 ? allowed.map((known) => `'${known}'`).join(', ') : 'no options'}`,
      );
    }
  }
  switch (objectiveName) {
    case 'simple':
      return createSimpleObjective({ prediction: options.prediction });
    case 'hybrid':
      return createHybridObjective({ vlbWeight: options.vlbWeight, prediction: options.prediction });
    case 'kl':
      return createKlObjective({ rescaled: options.rescaled });
  }
}
