import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { FeatureClassifier } from './evaluation-classifier.js';
import { frechetDistance, inceptionScore, meanAndCovariance } from './frechet.js';

/** A feature classifier's view of a set of images: penultimate features and class probabilities, one row per image. */
export interface ClassifierStatistics {
  readonly features: Float64Array;
  readonly probabilities: Float64Array;
  readonly count: number;
}

/** Penultimate features and class probabilities (softmax of the logits) of NHWC images under a feature classifier, `batchSize` images at a time. */
export async function classifierStatistics(
  classifier: FeatureClassifier,
  images: Float32Array,
  shape: readonly [number, number, number],
  batchSize = 100,
): Promise<ClassifierStatistics> {
  const imageSize = shape[0] * shape[1] * shape[2];
  const count = images.length / imageSize;
  const dimension = classifier.featureDimension;
  const features = new Float64Array(count * dimension);
  const probabilities = new Float64Array(count * classifier.numClasses);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const [featureTensor, probabilityTensor] = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * imageSize, (start + size) * imageSize), [size, ...shape]);
      const h = classifier.features(x);
      return [h, tf.softmax(classifier.logits({ x }))];
    });
    features.set(await featureTensor.data(), start * dimension);
    probabilities.set(await probabilityTensor.data(), start * classifier.numClasses);
    tf.dispose([featureTensor, probabilityTensor]);
  }
  return { features, probabilities, count };
}

/** FID (Heusel et al. 2017): the Fréchet distance between Gaussian fits (mean, unbiased covariance) of two feature sets of rows of `dimension` values. */
export function fidBetween(a: Float64Array, countA: number, b: Float64Array, countB: number, dimension: number): number {
  const first = meanAndCovariance(a, countA, dimension);
  const second = meanAndCovariance(b, countB, dimension);
  return frechetDistance(first.mean, first.covariance, second.mean, second.covariance);
}

/** Class accuracy: the share of rows whose most probable class (argmax, first on ties) is the requested label. */
export function classAccuracy(probabilities: Float64Array, labels: ArrayLike<number>, numClasses: number): number {
  let correct = 0;
  for (let row = 0; row < labels.length; row += 1) {
    let best = 0;
    for (let k = 1; k < numClasses; k += 1)
      if ((probabilities[row * numClasses + k] as number) > (probabilities[row * numClasses + best] as number)) best = k;
    if (best === labels[row]) correct += 1;
  }
  return correct / labels.length;
}

/**
 * Within-class diversity: the mean Euclidean distance between the features of two different
 * samples of the same class, averaged over the classes that have at least two samples. Guidance
 * trades it for fidelity (Ho & Salimans 2022, Fig. 1; Dhariwal & Nichol 2021, Fig. 3).
 */
export function withinClassDiversity(features: Float64Array, labels: ArrayLike<number>, dimension: number): number {
  const byClass = new Map<number, number[]>();
  for (let row = 0; row < labels.length; row += 1) {
    const label = labels[row] as number;
    const rows = byClass.get(label) ?? [];
    rows.push(row);
    byClass.set(label, rows);
  }
  let total = 0;
  let classes = 0;
  for (const rows of byClass.values()) {
    if (rows.length < 2) continue;
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < rows.length; i += 1) {
      for (let j = i + 1; j < rows.length; j += 1) {
        let squared = 0;
        const [a, b] = [(rows[i] as number) * dimension, (rows[j] as number) * dimension];
        for (let k = 0; k < dimension; k += 1) squared += ((features[a + k] as number) - (features[b + k] as number)) ** 2;
        sum += Math.sqrt(squared);
        pairs += 1;
      }
    }
    total += sum / pairs;
    classes += 1;
  }
  return classes === 0 ? 0 : total / classes;
}

/** What `compareToReference` reports about a set of images. */
export interface SampleMetrics {
  /** FID against the reference set. */
  readonly fid: number;
  /** Share classified as the requested label; null without labels. */
  readonly classAccuracy: number | null;
  /** exp(E KL(p(y|x) || p(y))). */
  readonly inceptionScore: number;
  /** Mean within-class feature distance (labels, or one class without them). */
  readonly diversity: number;
}

/** FID against `reference`, class accuracy against `labels`, Inception-style score and within-class diversity of `samples`. */
export function compareToReference(samples: ClassifierStatistics, reference: ClassifierStatistics, labels: ArrayLike<number> | null): SampleMetrics {
  const dimension = samples.features.length / samples.count;
  const numClasses = samples.probabilities.length / samples.count;
  if (reference.features.length / reference.count !== dimension) {
    throw new DiffusionError(
      'invalid-shape',
      `compareToReference: samples have ${dimension} features but the reference ${reference.features.length / reference.count}`,
    );
  }
  if (labels !== null && labels.length !== samples.count) {
    throw new DiffusionError('invalid-shape', `compareToReference: ${labels.length} labels for ${samples.count} samples`);
  }
  return {
    fid: fidBetween(samples.features, samples.count, reference.features, reference.count, dimension),
    classAccuracy: labels === null ? null : classAccuracy(samples.probabilities, labels, numClasses),
    inceptionScore: inceptionScore(samples.probabilities, samples.count, numClasses),
    diversity: withinClassDiversity(samples.features, labels ?? new Int32Array(samples.count), dimension),
  };
}
