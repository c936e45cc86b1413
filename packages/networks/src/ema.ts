import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

/** What an EMA needs besides its shadow tensors to resume exactly: the number of updates so far. */
export interface EmaState {
  readonly updates: number;
}

/** Options of `createEma`. */
export interface EmaOptions {
  /**
   * Warm-up (default true): update n (0-based) uses min(decay, (1 + n) / (10 + n)), as diffusers'
   * EMAModel and k-diffusion do, so the average forgets the random initialisation within the first
   * few hundred steps instead of after ~1 / (1 - decay) steps. false: always `decay`.
   */
  readonly warmup?: boolean;
}

/** Shadow copies of a model's parameters, averaged after each optimizer step. */
export interface Ema {
  /** The largest decay (the one used once the warm-up is over). */
  readonly decay: number;
  readonly warmup: boolean;
  /** Updates applied so far. */
  readonly updates: number;
  /** The averaged parameters, same names and shapes as the model's. */
  readonly shadowParameters: ReadonlyMap<string, tf.Variable>;
  /** The decay the next update uses. */
  nextDecay(): number;
  /** shadow = d * shadow + (1 - d) * parameter for every parameter, d = nextDecay(). */
  update(): void;
  /** Copies the shadow values into `target` (e.g. a second model made from the same config, for sampling). */
  copyTo(target: ReadonlyMap<string, tf.Variable>): void;
  /** The update count (the shadow tensors are saved separately). */
  getState(): EmaState;
  setState(state: EmaState): void;
  dispose(): void;
}

/** The decay of update `updates` (0-based): min(decay, (1 + n) / (10 + n)) with warm-up, else decay. */
export function emaDecayAt(decay: number, updates: number, warmup = true): number {
  // 1. d_n = min(d, (1 + n) / (10 + n))   (diffusers EMAModel, k-diffusion ema_update warm-up)
  return warmup ? Math.min(decay, (1 + updates) / (10 + updates)) : decay;
}

/**
 * An exponential moving average of the parameters (Polyak averaging; used by DDPM with decay
 * 0.9999 and by ADM), with the (1 + n) / (10 + n) warm-up of diffusers and k-diffusion by
 * default. `decay` must lie in (0, 1).
 */
export function createEma(parameters: ReadonlyMap<string, tf.Variable>, decay: number, options: EmaOptions = {}): Ema {
  if (typeof decay !== 'number' || !(decay > 0 && decay < 1)) {
    throw new DiffusionError('invalid-argument', `createEma: decay must be in (0, 1), got ${decay}`);
  }
  const warmup = options.warmup ?? true;
  const shadow = new Map<string, tf.Variable>();
  for (const [name, parameter] of parameters) shadow.set(name, tf.variable(parameter, false));
  let updates = 0;
  return {
    decay,
    warmup,
    get updates() {
      return updates;
    },
    shadowParameters: shadow,
    nextDecay: () => emaDecayAt(decay, updates, warmup),
    update() {
      const current = emaDecayAt(decay, updates, warmup);
      tf.tidy(() => {
        for (const [name, parameter] of parameters) {
          const average = shadow.get(name) as tf.Variable;
          // 2. shadow = d * shadow + (1 - d) * parameter
          average.assign(tf.add(tf.mul(average, current), tf.mul(parameter, 1 - current)));
        }
      });
      updates += 1;
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
    getState: () => ({ updates }),
    setState(state) {
      if (!Number.isSafeInteger(state?.updates) || state.updates < 0) {
        throw new DiffusionError('invalid-argument', `ema.setState: updates must be a non-negative integer, got ${JSON.stringify(state?.updates)}`);
      }
      updates = state.updates;
    },
    dispose() {
      for (const average of shadow.values()) average.dispose();
      shadow.clear();
    },
  };
}
