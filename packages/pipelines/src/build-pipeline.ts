import * as tf from '@tensorflow/tfjs-core';
import {
  decodeModelFileTensor,
  readModelFileEntries,
  type ByteSource,
  type ModelFileEntries,
  type ModelFileMetadata,
  type SafetensorsEntry,
} from '@tfjs-diffusion/checkpoints';
import {
  DiffusionError,
  type ClassConditioning,
  type DiffusionModel,
  type NoiseSchedule,
  type NoisyClassifier,
  type TrainableDiffusionModel,
} from '@tfjs-diffusion/core';
import { NETWORK_TYPES, createNetwork, parameterShapes, type ParameterSource } from '@tfjs-diffusion/networks';
import { createSchedule } from '@tfjs-diffusion/schedules';
import { generateImages, type GenerateOptions, type GenerateResult } from './generate.js';
import { checkWasmParameterBytes, wasmMemoryError } from './wasm-memory.js';
/** A model file to build from: its bytes, or a `ByteSource` read tensor by tensor (in Node, the file itself), and a name for errors. */
export interface ModelFileInput {
  readonly bytes: Uint8Array | ByteSource;
  readonly name: string;
}

/** Options of `loadPipeline`. */
export interface LoadPipelineOptions {
  /** A noise-aware classifier model file, for classifier guidance. */
  readonly classifier?: import('./read-source.js').PipelineSource;
  /** For a training checkpoint holding both: its EMA weights (default) or its raw weights. */
  readonly weights?: 'ema' | 'raw';
  /** Aborts fetching. */
  readonly signal?: AbortSignal;
}

/** A loaded model file, ready to sample: the model, its schedule and conditioning, and `generate`. */
export interface DiffusionPipeline {
  /** The denoiser (core contract), with the file's weights. */
  readonly model: DiffusionModel;
  /** The training schedule (float64 data); `generate` respaces it. */
  readonly schedule: NoiseSchedule;
  readonly conditioning: ClassConditioning | null;
  readonly classNames: readonly string[] | null;
  /** One sample's shape, [H, W, C]. */
  readonly dataShape: readonly [number, number, number];
  /** The file's validated metadata. */
  readonly metadata: ModelFileMetadata;
  /** Which weights the model holds. */
  readonly weights: 'ema' | 'raw';
  /** The file's other `__metadata__` strings (command, step, settings, ...). */
  readonly extra: Readonly<Record<string, string>>;
  /** The noise-aware classifier for classifier guidance, if one was loaded. */
  readonly classifier: NoisyClassifier | null;
  /** The model's named parameters (what `savePipeline` writes). */
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** Draws one image per label (or `count` images); see `GenerateOptions`. */
  generate(options: GenerateOptions): Promise<GenerateResult>;
  /** Frees the model's (and classifier's) tensors. */
  dispose(): void;
}

/** `__metadata__.network` in format version 1, `__metadata__.config` in version 0. */
function networkField(metadata: ModelFileMetadata): string {
  return metadata.formatVersion === 0 ? '__metadata__.config' : '__metadata__.network';
}

/**
 * A `ParameterSource` that decodes each tensor of the file only when the network asks for it
 * (float16 or float32 to a fresh float32 array, refusing non-finite values), so loading holds
 * the file's bytes, the network's weights and one decoded tensor, never the whole file as float32.
 * `unused()` lists the tensors the network never asked for.
 */
function fileParameterSource(
  bytes: Uint8Array | ByteSource,
  file: ModelFileEntries,
  entries: Map<string, SafetensorsEntry>,
): { source: ParameterSource; unused(): string[] } {
  const left = new Map(entries);
  return {
    source(name, shape) {
      const entry = left.get(name);
      if (!entry) throw new DiffusionError('invalid-checkpoint', `parameter "${name}" [${shape.join(', ')}] is missing from the weights`);
      if (entry.shape.length !== shape.length || entry.shape.some((size, axis) => size !== shape[axis])) {
        throw new DiffusionError(
          'invalid-checkpoint',
          `parameter "${name}": the network needs [${shape.join(', ')}], the weights have [${entry.shape.join(', ')}]`,
        );
      }
      left.delete(name);
      try {
        return decodeModelFileTensor(bytes, file, entry).data;
      } catch (error) {
        throw new UndecodableTensor(error as Error);
      }
    },
    unused: () => [...left.keys()],
  };
}

/** How many values the header entries hold. */
function parameterCount(tensors: Map<string, SafetensorsEntry>): number {
  let count = 0;
  for (const entry of tensors.values()) count += entry.shape.reduce((product, size) => product * size, 1);
  return count;
}

/** A tensor that failed to decode (non-finite values): rethrown as it is, not as a config mismatch. */
class UndecodableTensor extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

/**
 * Builds the network the metadata describes straight from the file's tensors (no random
 * initialisation), decoding one tensor at a time: each parameter's shape is compared before it
 * is allocated, so a config that does not describe the tensors fails at the first mismatch,
 * naming the file and the field.
 */
function buildNetwork<Network extends { dispose(): void }>(
  bytes: Uint8Array | ByteSource,
  file: ModelFileEntries,
  tensors: Map<string, SafetensorsEntry>,
  what: string,
): Network {
  const { source, unused } = fileParameterSource(bytes, file, tensors);
  let network: Network;
  try {
    network = createNetwork(file.metadata.network, { parameterSource: source }) as unknown as Network;
  } catch (error) {
    if (error instanceof UndecodableTensor) throw error.original;
    throw new DiffusionError(
      'invalid-checkpoint',
      `${file.name}: ${networkField(file.metadata)} does not describe the file's ${what}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const left = unused();
  if (left.length > 0) {
    network.dispose();
    const shown = left
      .slice(0, 5)
      .map((name) => `'${name}'`)
      .join(', ');
    throw new DiffusionError(
      'invalid-checkpoint',
      `${file.name}: ${networkField(file.metadata)} does not describe the file's ${what}: unexpected tensors ${shown}${left.length > 5 ? ` and ${left.length - 5} more` : ''}`,
    );
  }
  return network;
}

/**
 * The `expectedShapes` check of `parseModelFile` for the network types a role accepts: the shapes
 * the config gives (networks' shape probe, nothing allocated), compared before any tensor is decoded.
 */
function shapesOf(types: readonly string[], role: string): (metadata: ModelFileMetadata) => Map<string, number[]> {
  return (metadata) => {
    const type = metadata.network.type;
    if (!types.includes(type) || !(NETWORK_TYPES as readonly string[]).includes(type)) {
      throw new DiffusionError('invalid-checkpoint', `holds a '${type}' network, not ${role} (${types.map((name) => `'${name}'`).join(' or ')})`);
    }
    return parameterShapes(metadata.network);
  };
}

/** The training schedule of the metadata; errors name the file and `__metadata__.schedule`. */
function scheduleOf(file: ModelFileEntries): NoiseSchedule {
  const spec = file.metadata.schedule;
  if (spec === null)
    throw new DiffusionError('invalid-checkpoint', `${file.name}: __metadata__.schedule is null; a denoiser needs its training schedule`);
  const { respacing: _respacing, rescaleTimesteps: _rescale, betas, ...options } = spec;
  try {
    return betas !== undefined
      ? createSchedule({ kind: 'custom', betas: Float64Array.from(betas) })
      : createSchedule(options as Parameters<typeof createSchedule>[0]);
  } catch (error) {
    throw new DiffusionError('invalid-checkpoint', `${file.name}: __metadata__.schedule: ${(error as Error).message}`, { cause: error });
  }
}

/** The model as the file describes it: its conditioning from the metadata, and timesteps rescaled to [0, 1000) when the schedule says so. */
function describedModel(network: TrainableDiffusionModel, metadata: ModelFileMetadata, trainingTimesteps: number): DiffusionModel {
  const conditioning: ClassConditioning | null = metadata.conditioning
    ? { kind: 'class', numClasses: metadata.conditioning.numClasses, nullClass: metadata.conditioning.nullClass }
    : null;
  const rescale = metadata.schedule?.rescaleTimesteps === true ? 1000 / trainingTimesteps : 1;
  const sameConditioning =
    (network.conditioning === null && conditioning === null) ||
    (network.conditioning !== null &&
      conditioning !== null &&
      network.conditioning.numClasses === conditioning.numClasses &&
      network.conditioning.nullClass === conditioning.nullClass);
  if (sameConditioning && rescale === 1) return network;
  return {
    prediction: network.prediction,
    variance: network.variance,
    conditioning,
    predict: (input) => network.predict(rescale === 1 ? input : { ...input, timesteps: tf.mul(input.timesteps, rescale) as tf.Tensor1D }),
  };
}

/** A pipeline from model-file bytes (and optional classifier bytes); the shared part of both `loadPipeline`s. */
export function pipelineFromBytes(
  denoiser: ModelFileInput,
  classifierSource: ModelFileInput | null,
  options: Pick<LoadPipelineOptions, 'weights'> = {},
): DiffusionPipeline {
  const file = readModelFileEntries(denoiser.bytes, denoiser.name, { expectedShapes: shapesOf(['unet', 'mlp'], 'a denoiser') });
  const { metadata } = file;
  if (metadata.data.shape.length !== 3) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${file.name}: __metadata__.data.shape is [${metadata.data.shape.join(', ')}]; pipelines generate images ([H, W, C])`,
    );
  }
  const schedule = scheduleOf(file);
  const useEma = file.emaTensors !== null && (options.weights ?? 'ema') === 'ema';
  if (options.weights === 'ema' && file.emaTensors === null && metadata.weights !== 'ema') {
    throw new DiffusionError('invalid-argument', `loadPipeline: ${file.name} holds no EMA weights (its weights are '${metadata.weights}')`);
  }
  const chosen = useEma ? (file.emaTensors as Map<string, SafetensorsEntry>) : file.tensors;
  checkWasmParameterBytes(parameterCount(chosen), file.name);
  const network = buildNetwork<TrainableDiffusionModel>(denoiser.bytes, file, chosen, useEma ? 'EMA tensors' : 'tensors');
  let classifier: (NoisyClassifier & { dispose(): void }) | null = null;
  try {
    if (classifierSource) {
      const classifierFile = readModelFileEntries(classifierSource.bytes, classifierSource.name, {
        expectedShapes: shapesOf(['classifier'], 'a noise-aware classifier'),
      });
      const classifierSchedule = classifierFile.metadata.schedule;
      if (classifierSchedule && classifierSchedule.timesteps !== schedule.trainingTimesteps) {
        throw new DiffusionError(
          'invalid-checkpoint',
          `${classifierFile.name}: __metadata__.schedule has ${classifierSchedule.timesteps} timesteps, the denoiser ${file.name} ${schedule.trainingTimesteps}`,
        );
      }
      checkWasmParameterBytes(parameterCount(chosen) + parameterCount(classifierFile.tensors), `${file.name} with ${classifierFile.name}`);
      classifier = buildNetwork<NoisyClassifier & { dispose(): void }>(classifierSource.bytes, classifierFile, classifierFile.tensors, 'tensors');
    }
  } catch (error) {
    network.dispose();
    throw error;
  }
  const [height, width, channels] = metadata.data.shape as [number, number, number];
  const model = describedModel(network, metadata, schedule.trainingTimesteps);
  const pipeline: DiffusionPipeline = {
    model,
    schedule,
    conditioning: model.conditioning,
    classNames: metadata.conditioning?.classNames ?? null,
    dataShape: [height, width, channels],
    metadata,
    weights: useEma ? 'ema' : metadata.weights,
    extra: file.extra,
    classifier,
    parameters: network.parameters,
    generate: (generateOptions) =>
      generateImages(pipeline, generateOptions).catch((error: unknown) => {
        throw wasmMemoryError(error);
      }),
    dispose() {
      network.dispose();
      classifier?.dispose();
    },
  };
  return pipeline;
}
