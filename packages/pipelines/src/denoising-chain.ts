import { DiffusionError } from '@tfjs-diffusion/core';
import type { DiffusionPipeline } from './build-pipeline.js';
import type { GenerateOptions, GenerateStepEvent } from './generate.js';

/** The steps a chain picture shows: `columns` step numbers spread evenly over 0..totalSteps-1, the last included. */
export function chainSteps(totalSteps: number, columns: number): number[] {
  const count = Math.min(columns, totalSteps);
  if (count === 1) return [totalSteps - 1];
  return Array.from({ length: count }, (_, index) => Math.round((index * (totalSteps - 1)) / (count - 1)));
}

export interface DenoisingChain {
  /** The step numbers shown, in order. */
  readonly steps: readonly number[];
  /** Their original timesteps t. */
  readonly timesteps: readonly number[];
  /**
   * NHWC images for a grid of 2 * labels rows x steps columns: for each label, a row of x_t after
   * each shown step, then a row of the model's predicted x0 at that step.
   */
  readonly images: Float32Array;
}

/**
 * A picture of the reverse process (DDPM, Ho et al. 2020, fig. 6): generates one image per label
 * in one batch and records x_t and the predicted x0 after `columns` evenly spread steps (through
 * `onStep`), values clipped to [-1, 1]; tile `images` with `columns: steps.length`.
 *
 * @example
 * const chain = await sampleDenoisingChain(pipeline, { labels: [3, 7], steps: 20, seed: 1 }, 8);
 * const grid = tileImages(tf.tensor4d(chain.images, [2 * 2 * chain.steps.length, 28, 28, 1]), { columns: chain.steps.length });
 */
export async function sampleDenoisingChain(
  pipeline: DiffusionPipeline,
  options: Omit<GenerateOptions, 'onStep' | 'batchSize'>,
  columns: number,
): Promise<DenoisingChain> {
  if (!Number.isInteger(columns) || columns < 1)
    throw new DiffusionError('invalid-argument', `sampleDenoisingChain: columns must be a positive integer, got ${columns}`);
  const imageSize = pipeline.dataShape.reduce((a, b) => a * b, 1);
  const count = options.labels?.length ?? options.count ?? 1;
  let shown: number[] = [];
  const timesteps: number[] = [];
  let images = new Float32Array(0);
  const record = async (event: GenerateStepEvent) => {
    if (event.step === 0) {
      shown = chainSteps(event.totalSteps, columns);
      images = new Float32Array(2 * count * shown.length * imageSize);
    }
    const column = shown.indexOf(event.step);
    if (column < 0) return;
    timesteps.push(event.timestep);
    const [x, x0] = [await event.x.data(), await event.predictedX0.data()];
    for (let image = 0; image < count; image += 1) {
      for (const [row, values] of [
        [2 * image, x],
        [2 * image + 1, x0],
      ] as const) {
        const target = (row * shown.length + column) * imageSize;
        for (let index = 0; index < imageSize; index += 1) {
          images[target + index] = Math.min(1, Math.max(-1, values[image * imageSize + index] as number));
        }
      }
    }
  };
  const { images: final } = await pipeline.generate({ ...options, batchSize: count, onStep: record });
  final.dispose();
  return { steps: shown, timesteps, images };
}
