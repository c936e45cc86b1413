import type * as tf from '@tensorflow/tfjs-core';
import type { DiffusionModel, NoiseSchedule, NoisyClassifier } from '@tfjs-diffusion/core';
import type { ModelFileMetadata } from '@tfjs-diffusion/checkpoints';
import { generateImages, imageNoiseSeed, type DiffusionPipeline, type GenerateOptions } from '@tfjs-diffusion/pipelines';
import type { SamplingSettings } from './sampling-settings.js';

/** One request's share of a batch: one label per image and the request's own noise seed. */
export interface BatchShare {
  readonly labels: Int32Array;
  readonly seed: number;
}

/** What a batch run may be given: a per-step callback (1-based step) and a signal that stops it. */
export interface GenerateBatchOptions {
  readonly onStep?: (step: number, totalSteps: number) => Promise<void>;
  readonly signal?: AbortSignal;
}

/** What a server needs to know about a model to check requests against it (no weights). */
export interface ModelDescription {
  /** The name requests use (`--model NAME=FILE`). */
  readonly name: string;
  /** Where it was loaded from. */
  readonly source: string;
  /** Classes (labels 0..numClasses-1); null for an unconditional model. */
  readonly numClasses: number | null;
  /** The null class of classifier-free guidance, when the model was trained with label dropout. */
  readonly nullClass: number | null;
  readonly classNames: readonly string[] | null;
  /** Training timesteps T: the most sampling steps. */
  readonly timesteps: number;
  /** [height, width, channels] of one image. */
  readonly dataShape: readonly [number, number, number];
  /** Why classifier guidance is unavailable (absent when it is available). */
  readonly classifierUnavailable?: string;
}

/** A loaded model the scheduler can sample from: its description and one batched sampling call. */
export interface ServedModel {
  readonly description: ModelDescription;
  /**
   * Samples one batch in one network call per step: the shares' labels concatenated, image i of a
   * share drawn from the noise stream imageNoiseSeed(share.seed, i), so a share's images are the
   * ones `pipeline.generate({ labels, seed })` gives, whatever else is in the batch.
   * Returns each share's NHWC values in [-1, 1].
   */
  generate(settings: SamplingSettings, shares: readonly BatchShare[], options?: GenerateBatchOptions): Promise<Float32Array[]>;
  dispose(): void;
}

/** Why a classifier cannot guide this model, or undefined when it can. */
function classifierProblem(numClasses: number | null, classifier: NoisyClassifier | null): string | undefined {
  if (classifier === null) return 'no noise-aware classifier is loaded for this model';
  if (numClasses === null) return 'the model is unconditional';
  if (classifier.numClasses !== numClasses) return `the classifier has ${classifier.numClasses} classes, the model ${numClasses}`;
  return undefined;
}

/**
 * A ServedModel over a loaded pipeline (@tfjs-diffusion/pipelines): one `generateImages` call per
 * batch with every image's own noise seed and batchSize = the whole batch (one network call per step).
 * `classifierProblem` overrides why classifier guidance is unavailable (e.g. the file did not load).
 */
export function servedModelFromPipeline(name: string, source: string, pipeline: DiffusionPipeline, classifierUnavailable?: string): ServedModel {
  const numClasses = pipeline.conditioning?.numClasses ?? null;
  const problem = classifierUnavailable ?? classifierProblem(numClasses, pipeline.classifier);
  const description: ModelDescription = {
    name,
    source,
    numClasses,
    nullClass: pipeline.conditioning?.nullClass ?? null,
    classNames: pipeline.classNames,
    timesteps: pipeline.schedule.timesteps.length,
    dataShape: pipeline.dataShape,
    ...(problem === undefined ? {} : { classifierUnavailable: problem }),
  };
  return {
    description,
    async generate(settings, shares, options = {}) {
      const count = shares.reduce((sum, share) => sum + share.labels.length, 0);
      const labels: number[] = [];
      const noiseSeeds: string[] = [];
      for (const share of shares) {
        share.labels.forEach((label, index) => {
          labels.push(label);
          noiseSeeds.push(imageNoiseSeed(share.seed, index));
        });
      }
      // A batch of one image gets a second one, discarded: the native CPU kernels of
      // @tfjs-diffusion/backends take another path at batch 1 (measured on wasm: 274 of 784 values
      // of an MNIST image differ by up to 7e-7 from the same image in any batch of 2 to 32; none with
      // TFJS_DIFFUSION_NATIVE=0), and a request must get the same images alone or batched.
      const padded = count === 1;
      if (padded) {
        labels.push(labels[0] ?? 0);
        noiseSeeds.push(`${noiseSeeds[0] ?? ''}/batch-padding`);
      }
      const { onStep, signal } = options;
      const { images } = await generateImages(pipeline, {
        ...(numClasses === null ? { count: noiseSeeds.length } : { labels }),
        noiseSeeds,
        batchSize: noiseSeeds.length,
        sampler: settings.sampler,
        steps: settings.steps,
        eta: settings.eta,
        karras: settings.karras,
        guidance: settings.guidance,
        scale: settings.scale,
        ...(signal ? { signal } : {}),
        ...(onStep ? { onStep: (event: { step: number; totalSteps: number }) => onStep(event.step + 1, event.totalSteps) } : {}),
      });
      let values: Float32Array;
      try {
        values = (await images.data()) as Float32Array;
      } finally {
        images.dispose();
      }
      const imageSize = pipeline.dataShape[0] * pipeline.dataShape[1] * pipeline.dataShape[2];
      const out: Float32Array[] = [];
      let offset = 0;
      for (const share of shares) {
        out.push(values.slice(offset * imageSize, (offset + share.labels.length) * imageSize));
        offset += share.labels.length;
      }
      return out;
    },
    dispose: () => pipeline.dispose(),
  };
}

/** A model held in memory (not from a file): what createServedModel needs. */
export interface ServedModelParts {
  readonly name: string;
  readonly source: string;
  readonly model: DiffusionModel;
  /** The model's training schedule; requests respace it to their steps. */
  readonly schedule: NoiseSchedule;
  readonly dataShape: readonly [number, number, number];
  readonly classifier?: NoisyClassifier;
  readonly classNames?: readonly string[] | null;
  /** Frees the weights (default: nothing). */
  readonly dispose?: () => void;
}

/**
 * A ServedModel over a DiffusionModel in memory (tests, custom networks), sampled exactly as a
 * loaded pipeline is (generateImages), through a pipeline object holding the fields it reads.
 */
export function createServedModel(parts: ServedModelParts): ServedModel {
  const conditioning = parts.model.conditioning;
  const pipeline = {
    model: parts.model,
    schedule: parts.schedule,
    conditioning,
    classNames: parts.classNames ?? null,
    dataShape: parts.dataShape,
    metadata: {
      formatVersion: 1,
      network: {},
      schedule: { kind: 'custom', timesteps: parts.schedule.timesteps.length },
      prediction: parts.model.prediction,
      variance: parts.model.variance,
      conditioning: conditioning === null ? null : { numClasses: conditioning.numClasses, nullClass: conditioning.nullClass },
      data: { shape: [...parts.dataShape], range: [-1, 1] },
      weights: 'raw',
    } as unknown as ModelFileMetadata,
    weights: 'raw',
    classifier: parts.classifier ?? null,
    parameters: new Map<string, tf.Variable>(),
    extra: {},
    generate: (options: GenerateOptions) => generateImages(pipeline, options),
    dispose: () => parts.dispose?.(),
  } as unknown as DiffusionPipeline;
  return servedModelFromPipeline(parts.name, parts.source, pipeline);
}
