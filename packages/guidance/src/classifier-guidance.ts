import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError, type DiffusionModel, type Guidance, type ModelOutput, type NoisyClassifier } from '@tfjs-diffusion/core';
import { checkScale, definedTensors, requireClassLabels } from './shared.js';

export interface ClassifierGuidanceOptions {
  /** The noise-aware classifier p_phi(y | x_t, t), fed x_t and the ORIGINAL timesteps t. */
  readonly classifier: NoisyClassifier;
  /** The gradient scale s >= 0 of Dhariwal & Nichol (2021); s = 0 means no guidance. */
  readonly scale: number;
}

/**
 * Classifier guidance (Dhariwal & Nichol 2021, Algorithms 1 and 2): sets
 * guidanceGradient = s * grad_x log p_phi(y | x_t, t), which samplers apply as a mean or epsilon shift.
 */
export function classifierGuidance(options: ClassifierGuidanceOptions): Guidance {
  const scale = checkScale(options?.scale, 'classifierGuidance');
  const classifier = options.classifier;
  if (!classifier || typeof classifier.logits !== 'function' || !Number.isInteger(classifier.numClasses)) {
    throw new DiffusionError('invalid-argument', 'classifierGuidance: classifier must be a NoisyClassifier (numClasses and logits)');
  }
  const numClasses = classifier.numClasses;
  return (model: DiffusionModel): DiffusionModel => {
    if (model.conditioning && model.conditioning.numClasses !== numClasses) {
      throw new DiffusionError(
        'invalid-argument',
        `classifierGuidance: the classifier has ${numClasses} classes but the model is conditioned on ${model.conditioning.numClasses}`,
      );
    }
    return {
      prediction: model.prediction,
      variance: model.variance,
      conditioning: model.conditioning,
      predict(input): ModelOutput {
        const labels = requireClassLabels(input, 'classifierGuidance');
        // 0. s = 0 is the model itself: no classifier call.
        if (scale === 0) return model.predict(input);
        return tf.tidy(() => {
          const output = model.predict(input);
          // 1. One-hot of y; a label outside [0, numClasses) (such as a nullClass) selects nothing,
          //    so its sample gets no gradient.
          const selected = tf.oneHot(labels, numClasses, 1, 0, 'float32');
          // 2. sum_i log softmax(logits(x_t^i, t^i))[y^i]; sample i depends only on x_t^i, so the
          //    gradient of the sum is the per-sample grad_x log p_phi(y | x_t) (ADM section 4.1).
          const logProbability = (x: tf.Tensor): tf.Tensor =>
            tf.sum(tf.mul(tf.logSoftmax(classifier.logits({ x, timesteps: input.timesteps })), selected));
          const gradient = tf.grad(logProbability)(input.x);
          // 3. g = s * grad log p(y | x_t), ADM Algorithm 1 line 4 / Algorithm 2 line 4; added to a
          //    gradient already set further in, so classifier guidances compose.
          const scaled = tf.mul(gradient, scale);
          const guidanceGradient = output.guidanceGradient ? tf.add(output.guidanceGradient, scaled) : scaled;
          return definedTensors({
            prediction: output.prediction,
            varianceValues: output.varianceValues,
            guidanceGradient,
          }) as tf.TensorContainer;
        }) as unknown as ModelOutput;
      },
    };
  };
}
