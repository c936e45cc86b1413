import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { ParameterSource } from './parameter-store.js';

/** A parameter's values on the host, in the tfjs layout of the model's variable. */
export interface ParameterData {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Anything with named parameters (a denoiser, a classifier, an EMA's shadow map). */
export interface HasParameters {
  readonly parameters: ReadonlyMap<string, tf.Variable>;
}

const LISTED = 8;

function list(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown;
}

/**
 * Assigns saved values to a model's variables (a state_dict load with strict = true): every
 * parameter must be present with its exact shape and no unknown name may appear. Nothing is
 * assigned unless everything matches; otherwise DiffusionError('invalid-checkpoint') names the
 * missing, unexpected and mis-shaped parameters.
 */
export function loadParameters(model: HasParameters, tensors: ReadonlyMap<string, ParameterData>): void {
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [name, variable] of model.parameters) {
    const saved = tensors.get(name);
    if (!saved) {
      missing.push(name);
      continue;
    }
    const count = saved.shape.reduce((product, size) => product * size, 1);
    const sameShape = saved.shape.length === variable.shape.length && saved.shape.every((size, axis) => size === variable.shape[axis]);
    if (!sameShape) {
      mismatched.push(`${name} (model [${variable.shape.join(', ')}], saved [${saved.shape.join(', ')}])`);
    } else if (saved.data.length !== count) {
      mismatched.push(`${name} (shape [${saved.shape.join(', ')}] needs ${count} values, data has ${saved.data.length})`);
    }
  }
  const unexpected = [...tensors.keys()].filter((name) => !model.parameters.has(name));
  if (missing.length > 0 || unexpected.length > 0 || mismatched.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.length}: ${list(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${unexpected.length}: ${list(unexpected)}`);
    if (mismatched.length > 0) parts.push(`shape mismatch ${mismatched.length}: ${list(mismatched)}`);
    throw new DiffusionError('invalid-checkpoint', `parameters do not match the model: ${parts.join('; ')}`);
  }
  for (const [name, variable] of model.parameters) {
    const saved = tensors.get(name) as ParameterData;
    tf.tidy(() => variable.assign(tf.tensor(saved.data, variable.shape, 'float32')));
  }
}

/** Reads every parameter back to the host (the inverse of `loadParameters`), in the model's order. */
export async function readParameters(model: HasParameters): Promise<Map<string, ParameterData>> {
  const result = new Map<string, ParameterData>();
  for (const [name, variable] of model.parameters) {
    result.set(name, { shape: [...variable.shape], data: (await variable.data()) as Float32Array });
  }
  return result;
}

/**
 * A `ParameterSource` over host tensors already in the tfjs layout (e.g. read from a model file),
 * for building a network without a random initialisation. `unused()` lists the names the network
 * never asked for (a strict load treats them as an error). Each entry is dropped once taken, so
 * the map does not keep the values alive after the build.
 */
export function mapParameterSource(tensors: Map<string, ParameterData>): { source: ParameterSource; unused(): string[] } {
  return {
    source(name, shape) {
      const saved = tensors.get(name);
      if (!saved) throw new DiffusionError('invalid-checkpoint', `parameter "${name}" [${shape.join(', ')}] is missing from the weights`);
      const sameShape = saved.shape.length === shape.length && saved.shape.every((size, axis) => size === shape[axis]);
      if (!sameShape) {
        throw new DiffusionError(
          'invalid-checkpoint',
          `parameter "${name}": the network needs [${shape.join(', ')}], the weights have [${saved.shape.join(', ')}]`,
        );
      }
      tensors.delete(name);
      return saved.data;
    },
    unused: () => [...tensors.keys()],
  };
}
