import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type DiffusionModel, type ModelOutput, type NoisyClassifier } from '@tfjs-diffusion/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFreeGuidance } from './classifier-free-guidance.js';
import { classifierGuidance } from './classifier-guidance.js';
import { composeGuidance } from './compose-guidance.js';
import { countCalls, createMixtureClassifier, createMixtureDenoiser, linearAlphaBars, type GaussianMixture } from './test-utils/gaussian-mixture.js';

const mixture: GaussianMixture = { means: [-1.5, 1.5], stds: [0.3, 0.3], weights: [0.8, 0.2] };
const alphaBars = linearAlphaBars(1000);
const xValues = [-2, -0.4, 0.1, 0.7, 1.9, 3];
const tValues = [999, 700, 500, 250, 60, 5];
const labelValues = [1, 0, 1, 1, 0, 1];

const x = (): tf.Tensor => tf.tensor2d(xValues, [6, 1]);
const timesteps = (): tf.Tensor1D => tf.tensor1d(tValues);
const labels = (values = labelValues): tf.Tensor1D => tf.tensor1d(values, 'int32');

function values(tensor: tf.Tensor | undefined): number[] {
  if (!tensor) throw new Error('expected a tensor');
  return Array.from(tensor.dataSync());
}

function predictWith(model: DiffusionModel, classLabels = labels()): ModelOutput {
  return model.predict({ x: x(), timesteps: timesteps(), condition: { classLabels } });
}

/** grad_x log p(y | x_t) of the mixture in float64: -(x - m_y)/v_y + sum_k p(k | x) (x - m_k)/v_k. */
function exactGradient(position: number): number {
  const aBar = alphaBars[tValues[position] as number] as number;
  const xt = xValues[position] as number;
  const y = labelValues[position] as number;
  const m = mixture.means.map((mu) => Math.sqrt(aBar) * mu);
  const v = mixture.stds.map((std) => aBar * std * std + 1 - aBar);
  const logits = m.map((mk, k) => Math.log(mixture.weights[k] as number) - 0.5 * Math.log(v[k] as number) - (xt - mk) ** 2 / (2 * (v[k] as number)));
  const top = Math.max(...logits);
  const unnormalised = logits.map((logit) => Math.exp(logit - top));
  const total = unnormalised.reduce((sum, value) => sum + value, 0);
  const expected = m.reduce((sum, mk, k) => sum + ((unnormalised[k] as number) / total) * ((xt - mk) / (v[k] as number)), 0);
  return -(xt - (m[y] as number)) / (v[y] as number) + expected;
}

function countingClassifier(classifier: NoisyClassifier): { classifier: NoisyClassifier; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    classifier: {
      numClasses: classifier.numClasses,
      logits(input) {
        calls.push(input.x.shape[0] as number);
        return classifier.logits(input);
      },
    },
  };
}

describe('classifierGuidance', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const classifier = createMixtureClassifier(mixture, alphaBars);
  const unconditional = createMixtureDenoiser({ mixture, alphaBars, mode: 'unconditional' });

  it('sets guidanceGradient = s * grad_x log p(y | x_t) and leaves the prediction alone', () => {
    for (const scale of [1, 2.5]) {
      tf.tidy(() => {
        const output = predictWith(classifierGuidance({ classifier, scale })(unconditional));
        expect(values(output.prediction)).toEqual(values(predictWith(unconditional).prediction));
        values(output.guidanceGradient).forEach((value, position) => {
          const expected = scale * exactGradient(position);
          expect(Math.abs(value - expected)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected)));
        });
      });
    }
  });

  it('with s = 1 and exact parts turns the unconditional eps into the class-conditional one (ADM Algorithm 2)', () => {
    const conditional = createMixtureDenoiser({ mixture, alphaBars });
    tf.tidy(() => {
      const output = predictWith(classifierGuidance({ classifier, scale: 1 })(unconditional));
      const sqrtOneMinus = tf.tensor2d(
        tValues.map((t) => Math.sqrt(1 - (alphaBars[t] as number))),
        [6, 1],
      );
      // eps^ = eps - sqrt(1 - aBar) g: -sqrt(1 - aBar) (grad log p(x_t) + grad log p(y | x_t)) = eps(x_t | y)
      const shifted = values(tf.sub(output.prediction, tf.mul(sqrtOneMinus, output.guidanceGradient as tf.Tensor)));
      const expected = values(predictWith(conditional).prediction);
      shifted.forEach((value, position) => expect(Math.abs(value - (expected[position] as number))).toBeLessThan(1e-4));
    });
  });

  it('with s = 0 is the model itself and never calls the classifier', () => {
    const counted = countingClassifier(classifier);
    const model = classifierGuidance({ classifier: counted.classifier, scale: 0 })(unconditional);
    tf.tidy(() => {
      const output = predictWith(model);
      expect(output.guidanceGradient).toBeUndefined();
      expect(values(output.prediction)).toEqual(values(predictWith(unconditional).prediction));
    });
    expect(counted.calls).toEqual([]);
  });

  it('adds to a gradient set further in, and gives a null-class label no gradient', () => {
    tf.tidy(() => {
      const once = values(predictWith(classifierGuidance({ classifier, scale: 1 })(unconditional)).guidanceGradient);
      const twice = values(
        predictWith(composeGuidance(classifierGuidance({ classifier, scale: 1 }), classifierGuidance({ classifier, scale: 1 }))(unconditional))
          .guidanceGradient,
      );
      twice.forEach((value, position) => expect(value).toBeCloseTo(2 * (once[position] as number), 5));
      const withNull = values(predictWith(classifierGuidance({ classifier, scale: 1 })(unconditional), labels([2, 0, 2, 1, 2, 1])).guidanceGradient);
      expect(withNull[0]).toBe(0);
      expect(withNull[2]).toBe(0);
      expect(withNull[4]).toBe(0);
      expect(Math.abs(withNull[1] as number)).toBeGreaterThan(0);
    });
  });

  it('composes after classifier-free guidance: one doubled network call, one classifier call, gradient unchanged', () => {
    const counted = countCalls(createMixtureDenoiser({ mixture, alphaBars, variance: 'learned-range' }));
    const countedClassifier = countingClassifier(classifier);
    const model = composeGuidance(
      classifierFreeGuidance({ scale: 2 }),
      classifierGuidance({ classifier: countedClassifier.classifier, scale: 3 }),
    )(counted.model);
    tf.tidy(() => {
      const output = predictWith(model);
      const cfgOnly = predictWith(classifierFreeGuidance({ scale: 2 })(createMixtureDenoiser({ mixture, alphaBars, variance: 'learned-range' })));
      expect(values(output.prediction)).toEqual(values(cfgOnly.prediction));
      expect(values(output.varianceValues)).toEqual(values(cfgOnly.varianceValues));
      const gradient = values(output.guidanceGradient);
      gradient.forEach((value, position) => expect(Math.abs(value - 3 * exactGradient(position))).toBeLessThan(1e-3));
    });
    expect(counted.batchSizes).toEqual([12]);
    expect(countedClassifier.calls).toEqual([6]);
    expect(composeGuidance()(unconditional)).toBe(unconditional);
  });

  it('rejects missing labels, a class-count mismatch and a bad scale with named errors', () => {
    const model = classifierGuidance({ classifier, scale: 1 })(unconditional);
    tf.tidy(() => {
      expect(() => model.predict({ x: x(), timesteps: timesteps() })).toThrow(DiffusionError);
      expect(() => model.predict({ x: x(), timesteps: timesteps() })).toThrow(/classLabels/);
    });
    const threeClasses = createMixtureDenoiser({ mixture: { means: [-1, 0, 1], stds: [0.3, 0.3, 0.3], weights: [0.3, 0.3, 0.4] }, alphaBars });
    expect(() => classifierGuidance({ classifier, scale: 1 })(threeClasses)).toThrow(/2 classes.*3/);
    expect(() => classifierGuidance({ classifier, scale: -0.5 })).toThrow(/scale/);
  });

  it('leaves no tensor behind inside tf.tidy, and only its outputs outside', () => {
    const model = classifierGuidance({ classifier, scale: 2 })(classifierFreeGuidance({ scale: 1 })(createMixtureDenoiser({ mixture, alphaBars })));
    const inputs = { x: x(), timesteps: timesteps(), condition: { classLabels: labels() } };
    tf.tidy(() => {
      model.predict(inputs);
    });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.predict(inputs);
    });
    expect(tf.memory().numTensors).toBe(before);
    const output = model.predict(inputs);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([output.prediction, output.guidanceGradient as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([inputs.x, inputs.timesteps, inputs.condition.classLabels]);
  });
});
