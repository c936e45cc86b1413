import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, createNoiseSource } from '@tfjs-diffusion/core';

/**
 * How a parameter starts:
 * - 'zeros' / 'ones';
 * - uniform U(-bound, bound) (PyTorch's default for conv and linear layers, below);
 * - normal N(0, std^2) (PyTorch's nn.Embedding uses std = 1).
 */
export type Initializer =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'uniform'; readonly bound: number }
  | { readonly kind: 'normal'; readonly std: number };

/**
 * Where a network's weights come from instead of a random initialisation: called once per
 * parameter, in creation order, with its dotted name and tfjs-layout shape; returns exactly
 * prod(shape) float32 values (the store takes ownership: on the cpu backend no copy is made).
 * Loading a converted checkpoint through it never builds random weights first, and a source that
 * decodes one tensor at a time (e.g. from float16) never holds the whole file as float32.
 */
export type ParameterSource = (name: string, shape: readonly number[]) => Float32Array;

/**
 * A shape probe: a store built with one records every parameter's name and shape here and creates
 * no tensor (its "variables" are placeholders that must never be used), so a network's parameter
 * shapes can be listed for any size without allocating it (see `parameterShapes`).
 */
export type ShapeProbe = Map<string, number[]>;

/** A dense (linear) layer: weight [in, out], bias [out]. */
export interface DenseParameters {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
}

/** A 2-D convolution: weight HWIO [kernel, kernel, in, out], bias [out]. */
export interface Conv2dParameters {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly kernelSize: number;
}

/** A 1x1 1-D convolution over tokens (ADM's conv_nd(1, ...)): weight [1, in, out] (tfjs conv1d layout), bias [out]. */
export interface PointwiseParameters {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
}

/** GroupNorm's affine parameters: weight (gamma, ones) and bias (beta, zeros), both [channels]. */
export interface GroupNormParameters {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly groups: number;
}

/** The PyTorch default bound for conv and linear layers: kaiming_uniform(a = sqrt(5)) gives 1 / sqrt(fan_in). */
export function defaultUniformBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/**
 * Creates a network's named variables with seeded, host-side initialisation (so a seed gives the
 * same weights on every backend). Each parameter draws from its own stream,
 * `createNoiseSource(`${seed}:${name}`)`, so adding a layer never changes the others' weights.
 * Names are dotted like a PyTorch state_dict ("input_blocks.1.0.in_layers.2.weight"); shapes use
 * the tfjs layout of the op (conv HWIO, dense [in, out], conv1d [1, in, out]).
 * Initialisation follows PyTorch's defaults (He et al. 2015 kaiming-uniform with a = sqrt(5)):
 * weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in * kernel area; embeddings N(0, 1);
 * GroupNorm gamma 1 and beta 0; layers ADM zero-initialises (zero_module) start at 0.
 */
export class ParameterStore {
  readonly seed: number | string;
  readonly prefix: string;
  private readonly variables: Map<string, tf.Variable>;
  private readonly source: ParameterSource | ShapeProbe | undefined;

  constructor(seed: number | string, prefix = '', variables: Map<string, tf.Variable> = new Map(), source?: ParameterSource | ShapeProbe) {
    this.seed = seed;
    this.prefix = prefix;
    this.variables = variables;
    this.source = source;
  }

  /** Every parameter created so far (by this store and its scopes), in creation order. */
  get parameters(): ReadonlyMap<string, tf.Variable> {
    return this.variables;
  }

  /** A view whose names start with `prefix.`; it adds to the same parameter map. */
  scope(name: string | number): ParameterStore {
    return new ParameterStore(this.seed, this.fullName(String(name)), this.variables, this.source);
  }

  fullName(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}.${name}`;
  }

  /** Creates one named variable. Names are unique: a second one with the same name throws. */
  create(name: string, shape: readonly number[], initializer: Initializer): tf.Variable {
    const fullName = this.fullName(name);
    if (this.variables.has(fullName)) {
      throw new DiffusionError('invalid-argument', `parameter "${fullName}" was created twice`);
    }
    const count = shape.reduce((product, size) => product * size, 1);
    if (this.source instanceof Map) {
      if (this.source.has(fullName)) throw new DiffusionError('invalid-argument', `parameter "${fullName}" was created twice`);
      this.source.set(fullName, [...shape]);
      return { shape: [...shape], probe: true } as unknown as tf.Variable;
    }
    if (this.source) {
      const loaded = this.source(fullName, shape);
      if (!(loaded instanceof Float32Array) || loaded.length !== count) {
        throw new DiffusionError(
          'invalid-checkpoint',
          `parameter "${fullName}" [${shape.join(', ')}] needs ${count} float32 values, the source gave ${loaded instanceof Float32Array ? loaded.length : typeof loaded}`,
        );
      }
      const loadedTensor = tf.tensor(loaded, [...shape], 'float32');
      const variable = tf.variable(loadedTensor, true);
      loadedTensor.dispose();
      this.variables.set(fullName, variable);
      return variable;
    }
    const values = new Float32Array(count);
    switch (initializer.kind) {
      case 'zeros':
        break;
      case 'ones':
        values.fill(1);
        break;
      case 'uniform': {
        const uniform = createNoiseSource(`${this.seed}:${fullName}`).uniform(count);
        for (let position = 0; position < count; position += 1) {
          values[position] = (2 * (uniform[position] as number) - 1) * initializer.bound;
        }
        break;
      }
      case 'normal': {
        const normal = createNoiseSource(`${this.seed}:${fullName}`).normal([count]);
        for (let position = 0; position < count; position += 1) values[position] = (normal[position] as number) * initializer.std;
        break;
      }
    }
    const initial = tf.tensor(values, [...shape], 'float32');
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.variables.set(fullName, variable);
    return variable;
  }

  /** A dense layer `name.weight` [in, out] and `name.bias` [out] (PyTorch nn.Linear init, or zeros). */
  dense(name: string, inFeatures: number, outFeatures: number, zero = false): DenseParameters {
    const bound = defaultUniformBound(inFeatures);
    const initializer: Initializer = zero ? { kind: 'zeros' } : { kind: 'uniform', bound };
    return {
      weight: this.create(`${name}.weight`, [inFeatures, outFeatures], initializer),
      bias: this.create(`${name}.bias`, [outFeatures], initializer),
    };
  }

  /** A convolution `name.weight` HWIO [k, k, in, out] and `name.bias` [out] (PyTorch nn.Conv2d init, or zeros). */
  conv2d(name: string, inChannels: number, outChannels: number, kernelSize: number, zero = false): Conv2dParameters {
    const bound = defaultUniformBound(inChannels * kernelSize * kernelSize);
    const initializer: Initializer = zero ? { kind: 'zeros' } : { kind: 'uniform', bound };
    return {
      weight: this.create(`${name}.weight`, [kernelSize, kernelSize, inChannels, outChannels], initializer),
      bias: this.create(`${name}.bias`, [outChannels], initializer),
      kernelSize,
    };
  }

  /** A 1x1 conv1d over tokens, `name.weight` [1, in, out] and `name.bias` [out] (PyTorch nn.Conv1d init, or zeros). */
  pointwise(name: string, inChannels: number, outChannels: number, zero = false): PointwiseParameters {
    const bound = defaultUniformBound(inChannels);
    const initializer: Initializer = zero ? { kind: 'zeros' } : { kind: 'uniform', bound };
    return {
      weight: this.create(`${name}.weight`, [1, inChannels, outChannels], initializer),
      bias: this.create(`${name}.bias`, [outChannels], initializer),
    };
  }

  /** GroupNorm affine parameters `name.weight` (ones) and `name.bias` (zeros); `groups` must divide `channels`. */
  groupNorm(name: string, channels: number, groups: number): GroupNormParameters {
    if (channels % groups !== 0) {
      throw new DiffusionError('invalid-argument', `groupNormGroups ${groups} must divide the ${channels} channels of ${this.fullName(name)}`);
    }
    return {
      weight: this.create(`${name}.weight`, [channels], { kind: 'ones' }),
      bias: this.create(`${name}.bias`, [channels], { kind: 'zeros' }),
      groups,
    };
  }

  /** An embedding table `name.weight` [rows, dimension], N(0, 1) as PyTorch nn.Embedding. */
  embedding(name: string, rows: number, dimension: number): tf.Variable {
    return this.create(`${name}.weight`, [rows, dimension], { kind: 'normal', std: 1 });
  }

  /** Disposes every variable of the shared map. */
  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}

/**
 * Runs `build` with a fresh store and returns what it built with the store; if `build` throws
 * (a bad config found while building), the variables made so far are disposed first.
 */
export function buildWithStore<Built>(
  seed: number | string,
  source: ParameterSource | ShapeProbe | undefined,
  build: (store: ParameterStore) => Built,
): { built: Built; store: ParameterStore } {
  const store = new ParameterStore(seed, '', new Map(), source);
  try {
    return { built: build(store), store };
  } catch (error) {
    store.dispose();
    throw error;
  }
}
