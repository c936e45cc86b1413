import * as tf from '@tensorflow/tfjs-core';
import { DiffusionError, type DiffusionModel, type NoiseSchedule, type NoiseSource } from '@tfjs-diffusion/core';
import { evaluateBitsPerDim } from '@tfjs-diffusion/objectives';

/** Options of `datasetBitsPerDim`. */
export interface DatasetBitsPerDimOptions {
  readonly model: DiffusionModel;
  /** The chain scored: the training schedule, or a respaced one (a looser bound, much faster). */
  readonly schedule: NoiseSchedule;
  /** NHWC values in [-1, 1] (8-bit data scaled), image after image; the first `count` images are scored. */
  readonly images: Float32Array;
  /** [height, width, channels] of one image. */
  readonly dataShape: readonly [number, number, number];
  /** Images scored (default: all of `images`). */
  readonly count?: number;
  /** One class label per image for a class-conditional model (e.g. the true labels, or the null class); null or absent: none. */
  readonly labels?: ArrayLike<number> | null;
  /** Images scored at once (default 50). */
  readonly batchSize?: number;
  /** x_t of every step of every batch is drawn from it, batch after batch. */
  readonly noise: NoiseSource;
  /** Clip predicted x0 to [-1, 1] (default true, as improved-diffusion's `calc_bpd_loop`). */
  readonly clipDenoised?: boolean;
  /** After each batch, with the images scored so far. */
  readonly onBatch?: (done: number, total: number) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/** The dataset means of the bound and its parts, bits/dim. */
export interface DatasetBitsPerDim {
  /** Mean over the images of the total bound L_0 + ... + L_{N-1} + L_T. */
  readonly bitsPerDim: number;
  /** Mean prior term L_T = KL(q(x_T | x0) || N(0, I)). */
  readonly prior: number;
  /** Mean decoder term L_0 = -log p(x0 | x_1). */
  readonly decoder: number;
  /** Mean of the sum of the KL terms L_1 ... L_{N-1}. */
  readonly klTotal: number;
  /** The total bound of each image. */
  readonly perImage: Float64Array;
}

/**
 * Negative log-likelihood of a dataset in bits/dim: the variational bound of DDPM (Ho et al. 2020,
 * eq. 5) as Improved DDPM (Nichol & Dhariwal 2021, section 2.1) reports it, every step of `schedule`
 * scored by evaluateBitsPerDim of @tfjs-diffusion/objectives on batches of `batchSize` images,
 * averaged over the images. Leaves no tensor behind.
 */
export async function datasetBitsPerDim(options: DatasetBitsPerDimOptions): Promise<DatasetBitsPerDim> {
  const { model, schedule, images, dataShape, noise } = options;
  const imageValues = dataShape[0] * dataShape[1] * dataShape[2];
  const available = Math.floor(images.length / imageValues);
  const count = options.count ?? available;
  const batchSize = options.batchSize ?? 50;
  if (!Number.isSafeInteger(count) || count < 1 || count > available)
    throw new DiffusionError('invalid-argument', `datasetBitsPerDim: count must be an integer in [1, ${available}] (the images given), got ${count}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new DiffusionError('invalid-argument', `datasetBitsPerDim: batchSize must be a positive integer, got ${batchSize}`);
  const labels = options.labels ?? null;
  if (labels !== null && labels.length < count)
    throw new DiffusionError('invalid-argument', `datasetBitsPerDim: ${labels.length} labels for ${count} images`);
  const perImage = new Float64Array(count);
  const sums = { prior: 0, decoder: 0, klTotal: 0 };
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const x0 = tf.tensor4d(images.slice(start * imageValues, end * imageValues), [end - start, ...dataShape]);
    const classLabels =
      labels === null
        ? null
        : tf.tensor1d(
            Array.from({ length: end - start }, (_, index) => labels[start + index] as number),
            'int32',
          );
    try {
      const result = await evaluateBitsPerDim({
        model,
        schedule,
        x0,
        noise,
        ...(classLabels ? { condition: { classLabels } } : {}),
        ...(options.clipDenoised === undefined ? {} : { clipDenoised: options.clipDenoised }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      // 1. the batch means, weighted by the batch's images, add up to the dataset sums
      perImage.set(result.perSample, start);
      sums.prior += result.prior * (end - start);
      sums.decoder += result.decoder * (end - start);
      sums.klTotal += result.klTotal * (end - start);
    } finally {
      x0.dispose();
      classLabels?.dispose();
    }
    await options.onBatch?.(end, count);
  }
  // 2. bitsPerDim = prior + decoder + klTotal, as the mean of the images' totals
  return {
    bitsPerDim: perImage.reduce((sum, value) => sum + value, 0) / count,
    prior: sums.prior / count,
    decoder: sums.decoder / count,
    klTotal: sums.klTotal / count,
    perImage,
  };
}
