import * as tf from '@tensorflow/tfjs-core';
import {
  predictionTarget,
  type DiffusionModel,
  type ModelInput,
  type ModelOutput,
  type NoiseSchedule,
  type NoisyClassifier,
  type PredictionKind,
  type VarianceKind,
} from '@tfjs-diffusion/core';

/**
 * A 1-D Gaussian mixture sum_k pi_k N(mu_k, s_k^2) with class label = component. Everything about
 * its diffusion is exact: under x_t = sqrt(aBar) x0 + sqrt(1 - aBar) eps, component k has the marginal
 * N(m_k, v_k) with m_k = sqrt(aBar) mu_k and v_k = aBar s_k^2 + 1 - aBar.
 */
export interface GaussianMixture {
  readonly means: readonly number[];
  readonly stds: readonly number[];
  readonly weights: readonly number[];
}

/** alphaBar_t of the linear DDPM schedule, t = 0..T-1, in float64 (betas = linspace(s 1e-4, s 0.02, T), s = 1000/T). */
export function linearAlphaBars(trainingTimesteps: number): Float64Array {
  const scale = 1000 / trainingTimesteps;
  const start = scale * 1e-4;
  const end = scale * 0.02;
  const alphaBars = new Float64Array(trainingTimesteps);
  let product = 1;
  for (let t = 0; t < trainingTimesteps; t += 1) {
    const beta = trainingTimesteps === 1 ? start : start + ((end - start) * t) / (trainingTimesteps - 1);
    product *= 1 - beta;
    alphaBars[t] = product;
  }
  return alphaBars;
}

/**
 * Per-sample alphaBar [batch, 1] looked up by rounded ORIGINAL timestep in a float32 copy of the
 * full schedule's alphaBars (differentiable in x; t is data).
 */
function alphaBarOf(table: tf.Tensor1D, timesteps: tf.Tensor1D): tf.Tensor {
  return tf.reshape(tf.gather(table, tf.cast(tf.round(timesteps), 'int32')), [-1, 1]);
}

/** Component statistics at each sample's noise level, each [batch, K]. */
function componentMarginals(mixture: GaussianMixture, alphaBar: tf.Tensor): { means: tf.Tensor; variances: tf.Tensor } {
  const mu = tf.tensor2d([mixture.means.slice()], [1, mixture.means.length]);
  const variance = tf.tensor2d([mixture.stds.map((std) => std * std)], [1, mixture.stds.length]);
  // 1. m_k = sqrt(aBar) mu_k; v_k = aBar s_k^2 + 1 - aBar
  return {
    means: tf.mul(tf.sqrt(alphaBar), mu),
    variances: tf.add(tf.mul(alphaBar, variance), tf.sub(1, alphaBar)),
  };
}

/** log pi_k + log N(x_t; m_k, v_k) up to a constant: the exact logits of p(k | x_t), [batch, K]. */
function exactLogits(mixture: GaussianMixture, x: tf.Tensor, alphaBar: tf.Tensor): tf.Tensor {
  const { means, variances } = componentMarginals(mixture, alphaBar);
  const logWeights = tf.tensor2d([mixture.weights.map((weight) => Math.log(weight))], [1, mixture.weights.length]);
  // 2. Bayes: log p(k | x_t) = log pi_k - log(v_k)/2 - (x_t - m_k)^2 / (2 v_k) + const
  return tf.sub(tf.sub(logWeights, tf.mul(0.5, tf.log(variances))), tf.div(tf.square(tf.sub(x, means)), tf.mul(2, variances)));
}

export interface MixtureDenoiserOptions {
  readonly mixture: GaussianMixture;
  /** alphaBar of the FULL training schedule, indexed by original timestep. */
  readonly alphaBars: Float64Array;
  readonly prediction?: PredictionKind;
  /**
   * 'class': labels 0..K-1 give component k's exact denoiser, label K (the nullClass) the mixture's.
   * 'unconditional': ignores labels and always gives the mixture's exact denoiser (a "weak"
   * conditional model for classifier guidance); still declares class conditioning.
   */
  readonly mode?: 'class' | 'unconditional';
  /** With 'learned-range', varianceValues = label / K - 0.5 (so tests can see which branch it came from). */
  readonly variance?: VarianceKind;
  /** Declare no nullClass (for the error test). */
  readonly withoutNullClass?: boolean;
}

/**
 * The exact denoiser of a 1-D Gaussian mixture, data shape [1]: for Gaussian component k,
 * eps*(x_t) = sqrt(1 - aBar) (x_t - m_k) / v_k; for the mixture, the posterior-weighted sum of those.
 */
export function createMixtureDenoiser(options: MixtureDenoiserOptions): DiffusionModel {
  const { mixture, alphaBars } = options;
  const kind = options.prediction ?? 'epsilon';
  const components = mixture.means.length;
  const table = tf.keep(tf.tensor1d(Float32Array.from(alphaBars)));
  const variance = options.variance ?? 'fixed-large';
  return {
    prediction: kind,
    variance,
    conditioning: { kind: 'class', numClasses: components, nullClass: options.withoutNullClass ? null : components },
    predict(input: ModelInput): ModelOutput {
      return tf.tidy(() => {
        const x = input.x;
        const batch = x.shape[0] as number;
        const alphaBar = alphaBarOf(table, input.timesteps);
        const { means, variances } = componentMarginals(mixture, alphaBar);
        // 3. eps_k = sqrt(1 - aBar) (x_t - m_k) / v_k = -sqrt(1 - aBar) grad log N(x_t; m_k, v_k)
        const perComponent = tf.div(tf.mul(tf.sqrt(tf.sub(1, alphaBar)), tf.sub(x, means)), variances);
        // 4. mixture: eps = sum_k p(k | x_t) eps_k
        const posterior = tf.softmax(exactLogits(mixture, x, alphaBar));
        const mixtureEpsilon = tf.sum(tf.mul(posterior, perComponent), 1, true);
        let epsilon: tf.Tensor = mixtureEpsilon;
        const labels = input.condition?.classLabels ?? tf.fill([batch], components, 'int32');
        if ((options.mode ?? 'class') === 'class') {
          const selected = tf.oneHot(labels, components + 1, 1, 0, 'float32');
          const [componentPart, nullPart] = tf.split(selected, [components, 1], 1) as [tf.Tensor, tf.Tensor];
          epsilon = tf.add(tf.sum(tf.mul(componentPart, perComponent), 1, true), tf.mul(nullPart, mixtureEpsilon));
        }
        // 5. the other parametrisations from eps: x0 = (x_t - sqrt(1 - aBar) eps) / sqrt(aBar)
        const x0 = tf.div(tf.sub(x, tf.mul(tf.sqrt(tf.sub(1, alphaBar)), epsilon)), tf.sqrt(alphaBar));
        const prediction = predictionTarget(kind, x0, epsilon, alphaBar);
        if (variance === 'learned-range') {
          const varianceValues = tf.sub(tf.div(tf.reshape(tf.cast(labels, 'float32'), [-1, 1]), components), 0.5);
          return { prediction, varianceValues };
        }
        return { prediction };
      }) as ModelOutput;
    },
  };
}

/** The exact noise-aware classifier p(k | x_t, t) of the mixture, logits as tf ops of x and t. */
export function createMixtureClassifier(mixture: GaussianMixture, alphaBars: Float64Array): NoisyClassifier {
  const table = tf.keep(tf.tensor1d(Float32Array.from(alphaBars)));
  return {
    numClasses: mixture.means.length,
    logits({ x, timesteps }) {
      return exactLogits(mixture, tf.reshape(x, [-1, 1]), alphaBarOf(table, timesteps)) as tf.Tensor2D;
    },
  };
}

/** Wraps a model and records the batch size of every predict call. */
export function countCalls(model: DiffusionModel): { model: DiffusionModel; batchSizes: number[] } {
  const batchSizes: number[] = [];
  return {
    batchSizes,
    model: {
      prediction: model.prediction,
      variance: model.variance,
      conditioning: model.conditioning,
      predict(input) {
        batchSizes.push(input.x.shape[0] as number);
        return model.predict(input);
      },
    },
  };
}

/**
 * A NoiseSchedule holding the steps `kept` (original timesteps) of a schedule given by its full
 * alphaBars, with betas recomputed as respacing does. For unit tests that must not depend on
 * @tfjs-diffusion/schedules.
 */
export function scheduleFromAlphaBars(alphaBars: Float64Array, kept?: readonly number[]): NoiseSchedule {
  const timesteps = kept ? kept.slice() : Array.from(alphaBars, (_, t) => t);
  const count = timesteps.length;
  const keptAlphaBars = Float64Array.from(timesteps, (t) => alphaBars[t] as number);
  const alphaBarsPrevious = Float64Array.from(keptAlphaBars, (_, i) => (i === 0 ? 1 : (keptAlphaBars[i - 1] as number)));
  const betas = Float64Array.from(keptAlphaBars, (alphaBar, i) => 1 - alphaBar / (alphaBarsPrevious[i] as number));
  const alphas = betas.map((beta) => 1 - beta);
  const posteriorVariances = betas.map((beta, i) => (beta * (1 - (alphaBarsPrevious[i] as number))) / (1 - (keptAlphaBars[i] as number)));
  const posteriorLogVariancesClipped = posteriorVariances.map((variance, i) =>
    Math.log(i === 0 ? ((count > 1 ? posteriorVariances[1] : betas[0]) as number) : variance),
  );
  return {
    kind: 'linear',
    trainingTimesteps: alphaBars.length,
    respacing: kept ? 'custom' : null,
    timesteps,
    betas,
    alphas,
    alphaBars: keptAlphaBars,
    alphaBarsPrevious,
    posteriorVariances,
    posteriorLogVariancesClipped,
    posteriorMeanCoefficientsX0: betas.map((beta, i) => (beta * Math.sqrt(alphaBarsPrevious[i] as number)) / (1 - (keptAlphaBars[i] as number))),
    posteriorMeanCoefficientsXt: alphas.map(
      (alpha, i) => ((1 - (alphaBarsPrevious[i] as number)) * Math.sqrt(alpha)) / (1 - (keptAlphaBars[i] as number)),
    ),
    sigmas: keptAlphaBars.map((alphaBar) => Math.sqrt((1 - alphaBar) / alphaBar)),
  };
}
