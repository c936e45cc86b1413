import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { createNoiseSource, type NoiseSchedule } from '@tfjs-diffusion/core';
import { createBatchIterator, gatherImages, type ImageDataset } from '@tfjs-diffusion/data';
import { createClassifierObjective } from '@tfjs-diffusion/guidance';
import { Adam } from './adam.js';
import { clipByGlobalNorm, globalNorm } from './gradient-clipping.js';
import { warmupLearningRate } from './learning-rate.js';

/** A classifier as the loop sees it: named parameters and logits. */
export interface TrainableClassifier {
  readonly numClasses: number;
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  logits(input: { readonly x: tf.Tensor; readonly timesteps: tf.Tensor1D; readonly training?: boolean }): tf.Tensor2D;
}

export interface ClassifierTrainingOptions {
  readonly classifier: TrainableClassifier;
  readonly dataset: ImageDataset;
  /** 'noisy': cross-entropy on x_t ~ q(x_t | x0) at uniform t of `schedule`; 'clean': on x0 at t = 0. */
  readonly mode: 'noisy' | 'clean';
  readonly schedule?: NoiseSchedule;
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmup: number;
  readonly gradClip: number;
  readonly seed: number | string;
  readonly onStep?: (step: number, loss: number) => void | Promise<void>;
}

/**
 * Trains a classifier with Adam (warm-up, global-norm clipping): the noise-aware classifier of
 * classifier guidance (Dhariwal & Nichol 2021, section 4) on noised digits, or a clean-digit
 * classifier (the FID feature extractor). Returns the loss of every step.
 */
export async function trainClassifier(options: ClassifierTrainingOptions): Promise<number[]> {
  const { classifier, dataset, mode } = options;
  const noise = createNoiseSource(`${String(options.seed)}/classifier`);
  const iterator = createBatchIterator({
    count: dataset.count,
    batchSize: options.batchSize,
    noise: createNoiseSource(`${String(options.seed)}/data`),
    dropLast: true,
  });
  const objective = createClassifierObjective();
  const adam = new Adam(classifier.parameters);
  const variables = [...classifier.parameters.values()];
  const nameByVariable = new Map([...classifier.parameters].map(([name, variable]) => [variable.name, name]));
  const losses: number[] = [];
  try {
    for (let step = 0; step < options.steps; step += 1) {
      const batch = gatherImages(dataset, iterator.nextBatch());
      const x0 = tf.tensor4d(batch.images, batch.shape);
      const labels = tf.tensor1d(batch.labels, 'int32');
      try {
        const { value, grads } = tf.variableGrads(() => {
          if (mode === 'noisy') {
            const result = objective.compute({ classifier, schedule: options.schedule as NoiseSchedule, x0, labels, noise });
            return result.loss;
          }
          const logits = classifier.logits({ x: x0, timesteps: tf.zeros([x0.shape[0]]) as tf.Tensor1D, training: true });
          return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, classifier.numClasses, 1, 0, 'float32')), 1))) as tf.Scalar;
        }, variables);
        const gradients = new Map(Object.entries(grads).map(([name, gradient]) => [nameByVariable.get(name) as string, gradient]));
        const normTensor = globalNorm(gradients.values());
        const [loss, norm] = [(await value.data())[0] as number, (await normTensor.data())[0] as number];
        tf.dispose([value, normTensor]);
        if (Number.isFinite(loss) && Number.isFinite(norm)) {
          const clipped = clipByGlobalNorm(gradients, options.gradClip, norm);
          adam.apply(clipped, warmupLearningRate(options.learningRate, step, options.warmup));
          tf.dispose([...clipped.values()]);
        }
        tf.dispose([...gradients.values()]);
        losses.push(loss);
        await options.onStep?.(step + 1, loss);
      } finally {
        tf.dispose([x0, labels]);
      }
    }
  } finally {
    adam.dispose();
  }
  return losses;
}

/** Top-1 accuracy (argmax of the logits) of `classifier` on `count` images of `dataset` (clean, t = 0, or noised at a fixed index of `schedule`). */
export async function classifierAccuracy(
  classifier: TrainableClassifier,
  dataset: ImageDataset,
  options: { count?: number; batchSize?: number; schedule?: NoiseSchedule; index?: number; seed?: number | string } = {},
): Promise<number> {
  const count = Math.min(options.count ?? dataset.count, dataset.count);
  const batchSize = options.batchSize ?? 100;
  const noise = createNoiseSource(`${String(options.seed ?? 0)}/accuracy`);
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const batch = gatherImages(dataset, indices);
    const epsilon = options.schedule ? noise.normal(batch.shape) : undefined;
    const predicted = tf.tidy(() => {
      let x: tf.Tensor = tf.tensor4d(batch.images, batch.shape);
      let t = 0;
      if (options.schedule && epsilon) {
        const index = options.index ?? 0;
        const alphaBar = options.schedule.alphaBars[index] as number;
        t = options.schedule.timesteps[index] as number;
        x = tf.add(tf.mul(Math.sqrt(alphaBar), x), tf.mul(Math.sqrt(1 - alphaBar), tf.tensor(epsilon, batch.shape)));
      }
      return tf.argMax(classifier.logits({ x, timesteps: tf.fill([indices.length], t) as tf.Tensor1D }), 1);
    });
    const values = await predicted.data();
    predicted.dispose();
    values.forEach((label, i) => {
      if (label === batch.labels[i]) correct += 1;
    });
  }
  return correct / count;
}

/**
 * Held-out top-1 accuracy of a classifier: on clean images ('clean') and, given the schedule of a
 * noise-aware classifier, on images noised to q(x_t | x_0) at the timesteps a quarter, half and three
 * quarters of the way through it (keys 't=T'), with noise seeded by `seed`.
 */
export async function heldOutAccuracy(
  classifier: TrainableClassifier,
  dataset: ImageDataset,
  options: { count?: number; schedule?: NoiseSchedule; seed?: number | string } = {},
): Promise<Record<string, number>> {
  const count = options.count ?? dataset.count;
  const accuracy: Record<string, number> = { clean: await classifierAccuracy(classifier, dataset, { count }) };
  const schedule = options.schedule;
  if (schedule) {
    const length = schedule.timesteps.length;
    for (const index of [Math.floor(length / 4), Math.floor(length / 2), Math.floor((3 * length) / 4)]) {
      accuracy[`t=${schedule.timesteps[index]}`] = await classifierAccuracy(classifier, dataset, { count, schedule, index, seed: options.seed ?? 0 });
    }
  }
  return accuracy;
}
