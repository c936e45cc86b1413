import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError } from '@tfjs-diffusion/core';
import { createUNet, type UNetConfig, type UNetModel } from '@tfjs-diffusion/networks';
import { Adam, type AdamOptions } from '@tfjs-diffusion/training';

/**
 * A batch for the U-Net as flat host arrays: `x` the noisy inputs [count, S, S, C] (NHWC,
 * row-major), `timesteps` [count], `classLabels` [count] (class-conditional nets) and `target`
 * (the regression target of the same shape as x, e.g. the noise epsilon).
 */
export interface UNetBatch {
  readonly count: number;
  readonly x: Float32Array;
  readonly timesteps: Float32Array;
  readonly classLabels?: Int32Array;
  readonly target?: Float32Array;
}

/** Per-kernel times of a tf.profile run, aggregated by kernel name. */
export type KernelProfile = Record<string, { readonly milliseconds: number; readonly calls: number }>;

/** The gradient of the mean squared error on one batch, flattened in parameter order. */
export interface FlatGradient {
  readonly loss: number;
  readonly count: number;
  readonly gradient: Float32Array;
}

/** Takes rows [start, start + count) of a batch (views, no copies). */
export function sliceBatch(batch: UNetBatch, start: number, count: number): UNetBatch {
  const pixels = batch.x.length / batch.count;
  return {
    count,
    x: batch.x.subarray(start * pixels, (start + count) * pixels),
    timesteps: batch.timesteps.subarray(start, start + count),
    ...(batch.classLabels ? { classLabels: batch.classLabels.subarray(start, start + count) } : {}),
    ...(batch.target ? { target: batch.target.subarray(start * pixels, (start + count) * pixels) } : {}),
  };
}

/** Splits `count` rows into `parts` contiguous shares whose sizes differ by at most one (empty shares dropped). */
export function splitCounts(count: number, parts: number): number[] {
  const sizes: number[] = [];
  for (let part = 0; part < parts; part += 1) {
    const size = Math.floor(count / parts) + (part < count % parts ? 1 : 0);
    if (size > 0) sizes.push(size);
  }
  return sizes;
}

/** Aggregates tf.profile's kernel list by kernel name. */
export function aggregateKernels(kernels: readonly { readonly name: string; readonly kernelTimeMs: unknown }[]): KernelProfile {
  const table: Record<string, { milliseconds: number; calls: number }> = {};
  for (const kernel of kernels) {
    // 'name__op' entries are custom-gradient wrappers (tf.fused.*) whose time includes their inner kernel's
    if (kernel.name.endsWith('__op')) continue;
    const entry = (table[kernel.name] ??= { milliseconds: 0, calls: 0 });
    entry.milliseconds += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    entry.calls += 1;
  }
  return table;
}

/** Adds profile tables (e.g. of several workers). */
export function mergeProfiles(profiles: readonly KernelProfile[]): KernelProfile {
  const table: Record<string, { milliseconds: number; calls: number }> = {};
  for (const profile of profiles) {
    for (const [name, { milliseconds, calls }] of Object.entries(profile)) {
      const entry = (table[name] ??= { milliseconds: 0, calls: 0 });
      entry.milliseconds += milliseconds;
      entry.calls += calls;
    }
  }
  return table;
}

/**
 * One copy of an ADM U-Net with its Adam optimizer on the active tfjs backend: computes the
 * gradient of the mean squared error on a batch as one flat Float32Array (parameter order of
 * `model.parameters`), applies a flat gradient with Adam (Kingma & Ba 2015), and evaluates the
 * network without a tape. Data-parallel training runs one replica per worker.
 */
export class UNetReplica {
  readonly model: UNetModel;
  readonly parameterCount: number;
  private readonly adam: Adam;
  private readonly names: string[];
  private readonly variables: tf.Variable[];
  private readonly dataShape: [number, number, number];

  constructor(config: UNetConfig | Readonly<Record<string, unknown>>, adamOptions: AdamOptions = {}) {
    this.model = createUNet(config);
    this.adam = new Adam(this.model.parameters, adamOptions);
    this.names = [...this.model.parameters.keys()];
    this.variables = [...this.model.parameters.values()];
    this.parameterCount = this.variables.reduce((sum, variable) => sum + variable.size, 0);
    const { imageSize, inChannels } = this.model.config;
    this.dataShape = [imageSize, imageSize, inChannels];
  }

  private inputs(batch: UNetBatch): { x: tf.Tensor4D; timesteps: tf.Tensor1D; labels: tf.Tensor1D | undefined } {
    const expected = batch.count * this.dataShape[0] * this.dataShape[1] * this.dataShape[2];
    if (batch.x.length !== expected || batch.timesteps.length !== batch.count) {
      throw new DiffusionError('invalid-shape', `UNetReplica: a batch of ${batch.count} needs x of ${expected} values and ${batch.count} timesteps`);
    }
    return {
      x: tf.tensor4d(batch.x, [batch.count, ...this.dataShape]),
      timesteps: tf.tensor1d(batch.timesteps),
      labels: batch.classLabels ? tf.tensor1d(batch.classLabels, 'int32') : undefined,
    };
  }

  private lossTensors(batch: UNetBatch): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    if (!batch.target) throw new DiffusionError('invalid-argument', 'UNetReplica: training needs batch.target');
    const { x, timesteps, labels } = this.inputs(batch);
    const target = tf.tensor4d(batch.target, [batch.count, ...this.dataShape]);
    try {
      return tf.variableGrads(() => {
        const output = this.model.predict({ x, timesteps, condition: labels ? { classLabels: labels } : undefined, training: true });
        return tf.mean(tf.squaredDifference(output.prediction, target));
      }, this.variables);
    } finally {
      tf.dispose([x, timesteps, target, ...(labels ? [labels] : [])]);
    }
  }

  /** The loss mean((net(x) - target)^2) on `batch` and its gradient, flattened in parameter order. */
  computeGradient(batch: UNetBatch): FlatGradient {
    const { value, grads } = this.lossTensors(batch);
    const gradient = new Float32Array(this.parameterCount);
    let offset = 0;
    for (const variable of this.variables) {
      const part = grads[variable.name];
      if (part) gradient.set(part.dataSync() as Float32Array, offset);
      offset += variable.size;
    }
    const loss = (value.dataSync() as Float32Array)[0] as number;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, count: batch.count, gradient };
  }

  /** One Adam step with a flat gradient (same layout as computeGradient's). */
  applyGradient(gradient: Float32Array, learningRate: number): void {
    if (gradient.length !== this.parameterCount) {
      throw new DiffusionError('invalid-shape', `UNetReplica: gradient of ${gradient.length} values, expected ${this.parameterCount}`);
    }
    const tensors = new Map<string, tf.Tensor>();
    let offset = 0;
    this.variables.forEach((variable, index) => {
      tensors.set(this.names[index] as string, tf.tensor(gradient.subarray(offset, offset + variable.size), variable.shape));
      offset += variable.size;
    });
    this.adam.apply(tensors, learningRate);
    tf.dispose([...tensors.values()]);
  }

  /** The network's prediction on `batch` (no tape), flat NHWC. */
  predict(batch: UNetBatch): Float32Array {
    const { x, timesteps, labels } = this.inputs(batch);
    try {
      // read outside tf.tidy: tidy walks a returned typed array value by value (12-16 ms of CPU for 32,768 values)
      const prediction = tf.tidy(() => this.model.predict({ x, timesteps, condition: labels ? { classLabels: labels } : undefined }).prediction);
      try {
        return prediction.dataSync() as Float32Array;
      } finally {
        prediction.dispose();
      }
    } finally {
      tf.dispose([x, timesteps, ...(labels ? [labels] : [])]);
    }
  }

  /** All parameters, flattened in parameter order. */
  getParameters(): Float32Array {
    const flat = new Float32Array(this.parameterCount);
    let offset = 0;
    for (const variable of this.variables) {
      flat.set(variable.dataSync() as Float32Array, offset);
      offset += variable.size;
    }
    return flat;
  }

  /** Overwrites all parameters from a flat array (getParameters' layout). */
  setParameters(flat: Float32Array): void {
    if (flat.length !== this.parameterCount) {
      throw new DiffusionError('invalid-shape', `UNetReplica: ${flat.length} parameter values, expected ${this.parameterCount}`);
    }
    let offset = 0;
    for (const variable of this.variables) {
      tf.tidy(() => variable.assign(tf.tensor(flat.subarray(offset, offset + variable.size), variable.shape)));
      offset += variable.size;
    }
  }

  /** The parameter names and sizes, in the flat layout's order. */
  layout(): { readonly name: string; readonly size: number }[] {
    return this.variables.map((variable, index) => ({ name: this.names[index] as string, size: variable.size }));
  }

  /** Kernel times of one training step's gradient (forward + backward) or one evaluation, by kernel name. */
  async profile(kind: 'train' | 'eval', batch: UNetBatch): Promise<KernelProfile> {
    const info = await tf.profile(() => {
      if (kind === 'eval') {
        this.predict(batch);
      } else {
        const { value, grads } = this.lossTensors(batch);
        tf.dispose([value, ...Object.values(grads)]);
      }
    });
    return aggregateKernels(info.kernels);
  }

  dispose(): void {
    this.adam.dispose();
    this.model.dispose();
  }
}
