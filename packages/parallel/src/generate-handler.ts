// A worker-pool handler module (see createWorkerPool): each worker loads the pipeline once and runs generate jobs.
import type { GuidanceName } from '@tfjs-diffusion/guidance';
import { loadPipeline, type GenerateOptions } from '@tfjs-diffusion/pipelines/node';
import type { SamplerName } from '@tfjs-diffusion/samplers';
import type { JobHandler } from './worker-pool.js';

/** What every generate worker loads: the model file (and classifier) by path. */
export interface GenerateWorkerInit {
  readonly model: string;
  readonly classifier?: string;
  readonly weights?: 'ema' | 'raw';
}

/** One generate call in a worker: serialisable options (samplers and guidance by name), one noise seed per image. */
export type GenerateJob = Omit<GenerateOptions, 'onStep' | 'signal' | 'sampler' | 'guidance' | 'seed' | 'noiseSeeds'> & {
  readonly sampler?: SamplerName;
  readonly guidance?: GuidanceName;
  readonly noiseSeeds: readonly (number | string)[];
};

/** NHWC values of the job's images in the data range. */
export interface GenerateJobResult {
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

/** Loads the pipeline of `init` and returns a handler that runs `pipeline.generate` for each job. */
export async function createJobHandler(init: GenerateWorkerInit): Promise<JobHandler<GenerateJob, GenerateJobResult>> {
  const pipeline = await loadPipeline(init.model, {
    ...(init.classifier ? { classifier: init.classifier } : {}),
    ...(init.weights ? { weights: init.weights } : {}),
  });
  return {
    async run(job) {
      const { images } = await pipeline.generate(job);
      try {
        return { images: (await images.data()) as Float32Array, shape: images.shape };
      } finally {
        images.dispose();
      }
    },
    dispose: () => pipeline.dispose(),
  };
}
