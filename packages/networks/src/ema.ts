import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/** Shadow copies of a model's parameters, averaged after each optimizer step. */
export interface Ema {
  readonly decay: number;
  /** The averaged parameters, same names and shapes as the model's. */
  readonly shadowParameters: ReadonlyMap<string, tf.Variable>;
  /** shadow = decay * shadow + (1 - decay) * parameter, for every parameter. */
  update(): void;
  /** Copies the shadow values into `target` (e.g. a second model made from the same config, for sampling). */
  copyTo(target: ReadonlyMap<string, tf.Variable>): void;
  dispose(): void;
}

/**
 * An exponential moving average of the parameters (Polyak averaging; used by DDPM with decay
 * 0.9999 and by ADM). `decay` must lie in (0, 1).
 */
export function createEma(parameters: ReadonlyMap<string, tf.Variable>, decay: number): Ema {
  if (typeof decay !== 'number' || !(decay > 0 && decay < 1)) {
    throw new DiffusionError('invalid-argument', `createEma: decay must be in (0, 1), got ${decay}`);
  }
  const shadow = new Map<string, tf.Variable>();
  for (const [name, parameter] of parameters) shadow.set(name, tf.variable(parameter, false));
  return {
    decay,
    shadowParameters: shadow,
    update() {
      tf.tidy(() => {
        for (const [name, parameter] of parameters) {
          const average = shadow.get(name) as tf.Variable;
          // 1. shadow = decay * shadow + (1 - decay) * parameter
          average.assign(tf.add(tf.mul(average, decay), tf.mul(parameter, 1 - decay)));
        }
      });
    },
    copyTo(target) {
      for (const [name, average] of shadow) {
        const destination = target.get(name);
        if (!destination) throw new DiffusionError('invalid-argument', `ema.copyTo: the target has no parameter "${name}"`);
        if (destination.shape.join(',') !== average.shape.join(',')) {
          throw new DiffusionError(
            'invalid-shape',
            `ema.copyTo: "${name}" is [${destination.shape.join(', ')}] in the target but [${average.shape.join(', ')}] in the average`,
          );
        }
      }
      for (const [name, average] of shadow) (target.get(name) as tf.Variable).assign(average);
    },
    dispose() {
      for (const average of shadow.values()) average.dispose();
      shadow.clear();
    },
  };
}
