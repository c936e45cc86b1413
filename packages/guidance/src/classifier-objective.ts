import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import {
  DiffusionError,
  perSampleValues,
  type NoiseSchedule,
  type NoiseSource,
  type NoisyClassifier,
  type TimestepSampler,
} from '@tfjs-diffusion/core';

export interface ClassifierObjectiveInput {
  readonly classifier: NoisyClassifier;
  /** The schedule the diffusion model was trained on; steps are drawn from it. */
  readonly schedule: NoiseSchedule;
  /** Clean data, [batch, ...dataShape]. */
  readonly x0: tf.Tensor;
  /** int32 class labels, [batch]. */
  readonly labels: tf.Tensor1D;
  /** Timesteps, then the noise of q(x_t | x0), are drawn from it in that order. */
  readonly noise: NoiseSource;
  /** Uniform over the schedule's steps when absent; its weights scale each sample's loss. */
  readonly timestepSampler?: TimestepSampler;
}

export interface ClassifierObjectiveResult {
  /** Weighted mean cross-entropy, the scalar to minimise. */
  readonly loss: tf.Scalar;
  /** Cross-entropy of each sample, [batch]. */
  readonly perSampleLoss: tf.Tensor1D;
  /** Schedule indices used for each sample (the classifier is fed their ORIGINAL timesteps). */
  readonly indices: Int32Array;
  /** Top-1 accuracy on the noised batch, read on the host; only with `reportAccuracy`. */
  readonly accuracy?: number;
}

/** Trains a noise-aware classifier; not a diffusion `Objective` (it has no denoiser). `compute` is synchronous. */
export interface ClassifierObjective {
  readonly name: string;
  compute(input: ClassifierObjectiveInput): ClassifierObjectiveResult;
}

export interface ClassifierObjectiveOptions {
  /** Also read top-1 accuracy back to the host (one device sync per call). Default false. */
  readonly reportAccuracy?: boolean;
}

/**
 * Noise-aware classifier training for classifier guidance (Dhariwal & Nichol 2021, section 4;
 * guided-diffusion classifier_train.py): cross-entropy of p_phi(y | x_t, t) on x_t ~ q(x_t | x0).
 */
export function createClassifierObjective(options: ClassifierObjectiveOptions = {}): ClassifierObjective {
  const reportAccuracy = options.reportAccuracy ?? false;
  return {
    name: 'noisy-classifier-cross-entropy',
    compute(input) {
      const { classifier, schedule, x0, labels, noise } = input;
      const batch = x0.shape[0];
      if (x0.rank < 1 || batch === undefined || batch === 0) {
        throw new DiffusionError(
          'invalid-shape',
          `classifier objective: x0 must be [batch, ...dataShape] with batch > 0, got [${x0.shape.join(', ')}]`,
        );
      }
      if (labels.rank !== 1 || labels.shape[0] !== batch) {
        throw new DiffusionError('invalid-shape', `classifier objective: labels must have shape [${batch}], got [${labels.shape.join(', ')}]`);
      }
      if (labels.dtype !== 'int32') {
        throw new DiffusionError('invalid-argument', `classifier objective: labels must be int32, got ${labels.dtype}`);
      }
      const steps = schedule.timesteps.length;
      // 1. t ~ Uniform over the schedule's steps (or the given sampler), drawn on the host.
      let indices: Int32Array;
      let weights: Float64Array | null = null;
      if (input.timestepSampler) {
        ({ indices, weights } = input.timestepSampler.sample(batch, noise));
      } else {
        indices = noise.integers(batch, steps);
      }
      const timesteps = Float32Array.from(indices, (index) => schedule.timesteps[index] as number);
      const epsilon = noise.normal(x0.shape);
      let accuracy: number | undefined;
      const { loss, perSampleLoss } = tf.tidy(() => {
        const alphaBar = perSampleValues(schedule.alphaBars, indices, x0.rank);
        // 2. x_t = sqrt(aBar_t) x0 + sqrt(1 - aBar_t) eps, eq. 4 of DDPM
        const xt = tf.add(tf.mul(tf.sqrt(alphaBar), x0), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), tf.tensor(epsilon, x0.shape)));
        // 3. logits of p_phi(y | x_t, t), fed the ORIGINAL timestep t (ADM section 4)
        const logits = classifier.logits({ x: xt, timesteps: tf.tensor1d(timesteps), training: true });
        if (logits.rank !== 2 || logits.shape[0] !== batch || logits.shape[1] !== classifier.numClasses) {
          throw new DiffusionError(
            'invalid-shape',
            `classifier objective: logits must have shape [${batch}, ${classifier.numClasses}], got [${logits.shape.join(', ')}]`,
          );
        }
        // 4. cross-entropy -log softmax(logits)[y] per sample
        const perSample = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, classifier.numClasses, 1, 0, 'float32')), 1)) as tf.Tensor1D;
        // 5. weighted mean; the weights are 1 for uniform t
        const weighted = weights ? tf.mul(perSample, tf.tensor1d(Float32Array.from(weights))) : perSample;
        if (reportAccuracy) {
          const correct = tf.equal(tf.argMax(logits, 1), labels);
          accuracy = tf.mean(tf.cast(correct, 'float32')).dataSync()[0] as number;
        }
        return { loss: tf.mean(weighted) as tf.Scalar, perSampleLoss: perSample };
      });
      return accuracy === undefined ? { loss, perSampleLoss, indices } : { loss, perSampleLoss, indices, accuracy };
    },
  };
}
