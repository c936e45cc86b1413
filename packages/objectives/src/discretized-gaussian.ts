import * as tf from '@tensorflow/tfjs-core';

/** Half the width of one of the 256 bins of [-1, 1] that 8-bit data is scaled into. */
const HALF_BIN = 1 / 255;
/** Probabilities are clamped here before the log, as improved-diffusion does. */
const MIN_PROBABILITY = 1e-12;

/**
 * The standard normal CDF by the tanh approximation 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 * used for L_0 in improved-diffusion (`approx_standard_normal_cdf`; Nichol & Dhariwal 2021).
 */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // 1. inner = sqrt(2/pi) (x + 0.044715 x^3)
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    // 2. Phi(x) ~ 0.5 (1 + tanh(inner))
    return tf.mul(0.5, tf.add(1, tf.tanh(inner)));
  });
}

/**
 * Elementwise log-likelihood (nats) of data x in [-1, 1] under a Gaussian discretized to 256 bins, the
 * decoder L_0 of DDPM (Ho et al. 2020, eq. 13; improved-diffusion `discretized_gaussian_log_likelihood`).
 * `logScale` is log sigma (half the log variance). Bin edges are x +- 1/255, with the lower edge at
 * -inf where x < -0.999 and the upper edge at +inf where x > 0.999.
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, mean: tf.Tensor, logScale: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    // 1. standardise the bin edges: (x - mu +- 1/255) / sigma
    const centered = tf.sub(x, mean);
    const inverseScale = tf.exp(tf.neg(logScale));
    const cdfPlus = approxStandardNormalCdf(tf.mul(inverseScale, tf.add(centered, HALF_BIN)));
    const cdfMinus = approxStandardNormalCdf(tf.mul(inverseScale, tf.sub(centered, HALF_BIN)));
    // 2. first bin: log Phi(upper) (lower edge at -inf); last bin: log(1 - Phi(lower)) (upper edge at +inf)
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, MIN_PROBABILITY));
    const logOneMinusCdfMinus = tf.log(tf.maximum(tf.sub(1, cdfMinus), MIN_PROBABILITY));
    // 3. any other bin: log(Phi(upper) - Phi(lower))
    const logDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMinus), MIN_PROBABILITY));
    const shape = logDelta.shape;
    const isFirstBin = tf.broadcastTo(tf.less(x, -0.999), shape);
    const isLastBin = tf.broadcastTo(tf.greater(x, 0.999), shape);
    return tf.where(isFirstBin, logCdfPlus, tf.where(isLastBin, logOneMinusCdfMinus, logDelta));
  });
}
