import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';

export interface AdamOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
}

/** Moments and step count of an Adam optimizer, as plain host data for checkpoints. */
export interface AdamState {
  readonly step: number;
  readonly firstMoments: ReadonlyMap<string, Float32Array>;
  readonly secondMoments: ReadonlyMap<string, Float32Array>;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1), with decoupled weight decay (AdamW, Loshchilov & Hutter 2019)
 * when `weightDecay` > 0. Written out so that its whole state can be saved and restored exactly.
 */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private stepCount = 0;
  private readonly firstMoments = new Map<string, tf.Variable>();
  private readonly secondMoments = new Map<string, tf.Variable>();

  constructor(
    private readonly parameters: ReadonlyMap<string, tf.Variable>,
    options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    for (const [name, value] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(value >= 0 && value < 1)) throw new DiffusionError('invalid-argument', `Adam ${name} must be in [0, 1), got ${value}`);
    }
    for (const [name, parameter] of parameters) {
      this.firstMoments.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(parameter), false)),
      );
      this.secondMoments.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(parameter), false)),
      );
    }
  }

  get step(): number {
    return this.stepCount;
  }

  /** One Adam update with the given gradients (missing names are left untouched). */
  apply(gradients: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    this.stepCount += 1;
    const t = this.stepCount;
    // 1. bias corrections 1 - beta^t, folded into the step size (Algorithm 1's last lines)
    const correctedRate = (learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    tf.tidy(() => {
      for (const [name, gradient] of gradients) {
        const parameter = this.parameters.get(name);
        const first = this.firstMoments.get(name);
        const second = this.secondMoments.get(name);
        if (!parameter || !first || !second) throw new DiffusionError('invalid-argument', `Adam: unknown parameter ${name}`);
        // 2. m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
        const newFirst = tf.add(tf.mul(first, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newSecond = tf.add(tf.mul(second, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        first.assign(newFirst);
        second.assign(newSecond);
        // 3. theta -= lr_t m / (sqrt(v) + eps), plus decoupled decay lr * wd * theta
        let update = tf.div(tf.mul(newFirst, correctedRate), tf.add(tf.sqrt(newSecond), this.epsilon));
        if (this.weightDecay > 0) update = tf.add(update, tf.mul(parameter, learningRate * this.weightDecay));
        parameter.assign(tf.sub(parameter, update));
      }
    });
  }

  /** Copies the state to the host. */
  async getState(): Promise<AdamState> {
    const read = async (moments: Map<string, tf.Variable>) => {
      const out = new Map<string, Float32Array>();
      for (const [name, moment] of moments) out.set(name, (await moment.data()) as Float32Array);
      return out;
    };
    return { step: this.stepCount, firstMoments: await read(this.firstMoments), secondMoments: await read(this.secondMoments) };
  }

  /** Restores a state from `getState` (for example from a checkpoint); every parameter must be present. */
  setState(state: AdamState): void {
    const write = (moments: Map<string, tf.Variable>, values: ReadonlyMap<string, Float32Array>, what: string) => {
      for (const [name, moment] of moments) {
        const data = values.get(name);
        if (!data || data.length !== moment.size) {
          throw new DiffusionError(
            'invalid-checkpoint',
            `Adam state: ${what} for ${name} is ${data ? `of size ${data.length}, expected ${moment.size}` : 'missing'}`,
          );
        }
        tf.tidy(() => moment.assign(tf.tensor(data, moment.shape)));
      }
    };
    write(this.firstMoments, state.firstMoments, 'first moment');
    write(this.secondMoments, state.secondMoments, 'second moment');
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const moment of [...this.firstMoments.values(), ...this.secondMoments.values()]) moment.dispose();
  }
}
