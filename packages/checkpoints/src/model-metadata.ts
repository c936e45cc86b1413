import { DiffusionError, PREDICTION_KINDS, VARIANCE_KINDS, type PredictionKind, type VarianceKind } from '@tfjs-diffusion/core';
import { jsonNestingDepth } from './safetensors.js';

/** The version of the model-file layout `writeModelFile` writes (docs/model-format.md). Files without one are version 0. */
export const MODEL_FORMAT_VERSION = 1;

/** The noise schedule a model was trained with (options of `createSchedule`, plus how a sampler should respace it). */
export interface ScheduleMetadata {
  /** 'linear' | 'cosine' | 'scaled-linear' | 'sigmoid' | 'custom'. */
  readonly kind: string;
  /** T, the number of training timesteps. */
  readonly timesteps: number;
  /** The betas, required for 'custom' (length T), optional otherwise (then they must be what `kind` gives). */
  readonly betas?: readonly number[];
  /** A default respacing ('linspace:50', '50', 'ddim50', ...) for sampling. */
  readonly respacing?: string;
  /** Feed the network timesteps rescaled to [0, 1000) (improved-diffusion's rescale_timesteps). */
  readonly rescaleTimesteps?: boolean;
  /** Options of the kind: betaStart, betaEnd, scaleWithTimesteps (linear family); offset, maxBeta (cosine). */
  readonly betaStart?: number;
  readonly betaEnd?: number;
  readonly scaleWithTimesteps?: boolean;
  readonly offset?: number;
  readonly maxBeta?: number;
}

/** Class conditioning: labels 0..numClasses-1, plus `nullClass` (usually numClasses) meaning "no class". */
export interface ConditioningMetadata {
  readonly numClasses: number;
  readonly nullClass: number | null;
  readonly classNames?: readonly string[];
}

/** The data the model produces: one sample's shape ([H, W, C] for images, [D] for vectors) and its value range. */
export interface DataMetadata {
  readonly shape: readonly number[];
  readonly range: readonly [number, number];
}

/** The training state of a training checkpoint; `step` is required, the rest belongs to the trainer. */
export interface TrainingMetadata {
  readonly step: number;
  readonly [key: string]: unknown;
}

/** A model file's parsed and validated `__metadata__` (docs/model-format.md). */
export interface ModelFileMetadata {
  readonly formatVersion: number;
  /** The network config; `type` says which network ('unet', 'mlp', 'classifier', 'evaluation-classifier', ...). */
  readonly network: Readonly<Record<string, unknown>> & { readonly type: string };
  /** The training schedule; null for a network that does not see noisy data (a clean-image classifier). */
  readonly schedule: ScheduleMetadata | null;
  /** What the network predicts; null for a classifier. */
  readonly prediction: PredictionKind | null;
  /** The reverse-process variance; null for a classifier. */
  readonly variance: VarianceKind | null;
  readonly conditioning: ConditioningMetadata | null;
  readonly data: DataMetadata;
  /** What the model tensors are: EMA weights or the raw trained weights (a training checkpoint's are raw; its EMA lies beside them). */
  readonly weights: 'ema' | 'raw';
  /** Only in a training checkpoint. */
  readonly training?: TrainingMetadata;
}

/** What a writer passes: the metadata without the version (always MODEL_FORMAT_VERSION when written). */
export type ModelFileMetadataInput = Omit<ModelFileMetadata, 'formatVersion'> & { readonly formatVersion?: number };

/** Sizes beyond which a model file is refused before anything is allocated. */
export const MODEL_FILE_LIMITS = {
  /** Training timesteps T. */
  maxTimesteps: 100_000,
  /** Height and width of an image. */
  maxImageSize: 1024,
  /** Channels of the data (C of [H, W, C]) and entries of a vector sample. */
  maxDataChannels: 64,
  maxDataDimension: 65_536,
  maxClasses: 100_000,
  /** Any width-like integer of a network config (modelChannels, hiddenSize, ...). */
  maxNetworkWidth: 2048,
  /** Any count-like integer of a network config (numResBlocks, numHeads, hiddenLayers, ...). */
  maxNetworkCount: 64,
  /** Nesting of any JSON value in the metadata. */
  maxJsonDepth: 16,
  /** Characters of one class name. */
  maxClassNameLength: 256,
} as const;

/** The reserved `__metadata__` keys of format version 1. */
export const MODEL_METADATA_KEYS = [
  'formatVersion',
  'network',
  'schedule',
  'prediction',
  'variance',
  'conditioning',
  'data',
  'weights',
  'training',
] as const;

const SCHEDULE_KINDS = ['linear', 'cosine', 'scaled-linear', 'sigmoid', 'custom'];
const SCHEDULE_KEYS = [
  'kind',
  'timesteps',
  'betas',
  'respacing',
  'rescaleTimesteps',
  'betaStart',
  'betaEnd',
  'scaleWithTimesteps',
  'offset',
  'maxBeta',
];
/** Network-config integers bounded by maxNetworkWidth. */
const WIDTH_FIELDS = ['modelChannels', 'hiddenSize', 'timeEmbeddingDimension', 'numHeadChannels', 'featureDimension', 'outChannels'];
/** Network-config integers bounded by maxNetworkCount. */
const COUNT_FIELDS = ['numResBlocks', 'numResBlocksUp', 'numHeads', 'hiddenLayers', 'groupNormGroups'];
/** Network-config integer lists: each entry bounded by maxNetworkWidth and at most maxNetworkCount long. */
const LIST_FIELDS = ['channelMultipliers', 'attentionResolutions', 'channels'];

/** Where a metadata problem was found: the file and the dotted field, e.g. `__metadata__.schedule.timesteps`. */
class MetadataReader {
  /** `networkKey`: the `__metadata__` entry holding the network config ('network'; 'config' in version 0). */
  constructor(
    readonly fileName: string,
    readonly networkKey = 'network',
  ) {}

  fail(field: string, problem: string, cause?: unknown): never {
    const named = field.startsWith('network') ? this.networkKey + field.slice('network'.length) : field;
    throw new DiffusionError('invalid-checkpoint', `${this.fileName}: __metadata__.${named} ${problem}`, cause === undefined ? undefined : { cause });
  }

  /** Parses a JSON string entry after bounding its nesting (deep JSON is refused by name, never a stack overflow). */
  json(field: string, text: string): unknown {
    const depth = jsonNestingDepth(text);
    if (depth > MODEL_FILE_LIMITS.maxJsonDepth) this.fail(field, `nests ${depth} levels deep (at most ${MODEL_FILE_LIMITS.maxJsonDepth})`);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      return this.fail(field, `is not valid JSON (${(error as Error).message})`, error);
    }
  }

  object(field: string, value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, `must be a JSON object, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  integer(field: string, value: unknown, minimum: number, maximum: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(field, `must be an integer, got ${describe(value)}`);
    if ((value as number) < minimum || (value as number) > maximum) this.fail(field, `is ${String(value)}, outside [${minimum}, ${maximum}]`);
    return value as number;
  }

  finite(field: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, `must be a finite number, got ${describe(value)}`);
    return value as number;
  }

  choice<T extends string>(field: string, value: unknown, choices: readonly T[]): T {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${choices.map((choice) => `'${choice}'`).join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  }
}

/** Checks the network config: a type, finite numbers, bounded sizes (named by field). */
function readNetwork(reader: MetadataReader, value: unknown): ModelFileMetadata['network'] {
  const network = reader.object('network', value);
  if (typeof network['type'] !== 'string' || network['type'].length === 0)
    reader.fail('network.type', `must be a non-empty string, got ${describe(network['type'])}`);
  const limits = MODEL_FILE_LIMITS;
  if (network['imageSize'] !== undefined) reader.integer('network.imageSize', network['imageSize'], 1, limits.maxImageSize);
  if (network['inChannels'] !== undefined) reader.integer('network.inChannels', network['inChannels'], 1, limits.maxDataChannels);
  if (network['dataDimension'] !== undefined) reader.integer('network.dataDimension', network['dataDimension'], 1, limits.maxDataDimension);
  if (network['numClasses'] !== undefined && network['numClasses'] !== null)
    reader.integer('network.numClasses', network['numClasses'], 1, limits.maxClasses);
  for (const field of WIDTH_FIELDS) {
    if (network[field] !== undefined && network[field] !== null) reader.integer(`network.${field}`, network[field], 1, limits.maxNetworkWidth);
  }
  for (const field of COUNT_FIELDS) {
    if (network[field] !== undefined && network[field] !== null) reader.integer(`network.${field}`, network[field], 0, limits.maxNetworkCount);
  }
  for (const field of LIST_FIELDS) {
    const list = network[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > limits.maxNetworkCount)
      reader.fail(`network.${field}`, `must be a list of at most ${limits.maxNetworkCount} integers, got ${describe(list)}`);
    list.forEach((entry, index) => {
      // channelMultipliers may be fractional (ADM's 512x512 model starts with 0.5)
      if (field !== 'channelMultipliers') reader.integer(`network.${field}[${index}]`, entry, 1, limits.maxNetworkWidth);
      else if (reader.finite(`network.${field}[${index}]`, entry) <= 0 || (entry as number) > limits.maxNetworkWidth) {
        reader.fail(`network.${field}[${index}]`, `is ${String(entry)}, outside (0, ${limits.maxNetworkWidth}]`);
      }
    });
  }
  if (network['dropout'] !== undefined) {
    const dropout = reader.finite('network.dropout', network['dropout']);
    if (dropout < 0 || dropout >= 1) reader.fail('network.dropout', `is ${dropout}, outside [0, 1)`);
  }
  return network as ModelFileMetadata['network'];
}

/** Checks a schedule: known kind, T bounded, betas (if any) of length T in (0, 1), known options only. */
function readSchedule(reader: MetadataReader, value: unknown): ScheduleMetadata {
  const schedule = reader.object('schedule', value);
  for (const key of Object.keys(schedule)) {
    if (!SCHEDULE_KEYS.includes(key)) reader.fail(`schedule.${key}`, `is not a schedule field (allowed: ${SCHEDULE_KEYS.join(', ')})`);
  }
  const kind = reader.choice('schedule.kind', schedule['kind'], SCHEDULE_KINDS);
  const betas = schedule['betas'];
  const timesteps =
    kind === 'custom' && schedule['timesteps'] === undefined && Array.isArray(betas)
      ? betas.length
      : reader.integer('schedule.timesteps', schedule['timesteps'], 1, MODEL_FILE_LIMITS.maxTimesteps);
  if (betas !== undefined) {
    if (!Array.isArray(betas)) reader.fail('schedule.betas', `must be a list of numbers, got ${describe(betas)}`);
    const list = betas as unknown[];
    if (list.length !== timesteps) reader.fail('schedule.betas', `has ${list.length} entries, but schedule.timesteps is ${timesteps}`);
    list.forEach((beta, index) => {
      if (typeof beta !== 'number' || !(beta > 0 && beta < 1))
        reader.fail(`schedule.betas[${index}]`, `must be a number in (0, 1), got ${describe(beta)}`);
    });
  } else if (kind === 'custom') {
    reader.fail('schedule.betas', "is required for a 'custom' schedule");
  }
  if (schedule['respacing'] !== undefined && (typeof schedule['respacing'] !== 'string' || schedule['respacing'].length > 200)) {
    reader.fail('schedule.respacing', `must be a respacing string such as 'linspace:50', got ${describe(schedule['respacing'])}`);
  }
  for (const flag of ['rescaleTimesteps', 'scaleWithTimesteps']) {
    if (schedule[flag] !== undefined && typeof schedule[flag] !== 'boolean')
      reader.fail(`schedule.${flag}`, `must be true or false, got ${describe(schedule[flag])}`);
  }
  for (const option of ['betaStart', 'betaEnd', 'offset', 'maxBeta']) {
    if (schedule[option] !== undefined) reader.finite(`schedule.${option}`, schedule[option]);
  }
  return { ...(schedule as unknown as ScheduleMetadata), timesteps };
}

function readConditioning(reader: MetadataReader, value: unknown): ConditioningMetadata | null {
  if (value === null) return null;
  const conditioning = reader.object('conditioning', value);
  const numClasses = reader.integer('conditioning.numClasses', conditioning['numClasses'], 1, MODEL_FILE_LIMITS.maxClasses);
  const nullClass = conditioning['nullClass'] === null ? null : reader.integer('conditioning.nullClass', conditioning['nullClass'], 0, numClasses);
  const names = conditioning['classNames'];
  if (names === undefined) return { numClasses, nullClass };
  if (!Array.isArray(names) || names.length !== numClasses) {
    reader.fail('conditioning.classNames', `must list ${numClasses} names (one per class), got ${describe(names)}`);
  }
  (names as unknown[]).forEach((name, index) => {
    if (typeof name !== 'string' || name.length > MODEL_FILE_LIMITS.maxClassNameLength) {
      reader.fail(
        `conditioning.classNames[${index}]`,
        `must be a string of at most ${MODEL_FILE_LIMITS.maxClassNameLength} characters, got ${describe(name)}`,
      );
    }
  });
  return { numClasses, nullClass, classNames: [...(names as string[])] };
}

function readData(reader: MetadataReader, value: unknown): DataMetadata {
  const data = reader.object('data', value);
  const shape = data['shape'];
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 3) reader.fail('data.shape', `must be [H, W, C] or [D], got ${describe(shape)}`);
  const list = shape as unknown[];
  if (list.length === 3) {
    reader.integer('data.shape[0]', list[0], 1, MODEL_FILE_LIMITS.maxImageSize);
    reader.integer('data.shape[1]', list[1], 1, MODEL_FILE_LIMITS.maxImageSize);
    reader.integer('data.shape[2]', list[2], 1, MODEL_FILE_LIMITS.maxDataChannels);
  } else {
    list.forEach((size, index) => reader.integer(`data.shape[${index}]`, size, 1, MODEL_FILE_LIMITS.maxDataDimension));
  }
  const range = data['range'];
  if (!Array.isArray(range) || range.length !== 2) reader.fail('data.range', `must be [low, high], got ${describe(range)}`);
  const low = reader.finite('data.range[0]', (range as unknown[])[0]);
  const high = reader.finite('data.range[1]', (range as unknown[])[1]);
  if (!(low < high)) reader.fail('data.range', `must have low < high, got [${low}, ${high}]`);
  return { shape: list as number[], range: [low, high] };
}

/** Cross-checks the fields against each other and against the network config. */
function crossCheck(reader: MetadataReader, metadata: ModelFileMetadata): void {
  const { network, data, conditioning } = metadata;
  if (typeof network['imageSize'] === 'number' && data.shape.length === 3) {
    if (data.shape[0] !== network['imageSize'] || data.shape[1] !== network['imageSize']) {
      reader.fail('data.shape', `is [${data.shape.join(', ')}], but network.imageSize is ${String(network['imageSize'])}`);
    }
  }
  if (typeof network['inChannels'] === 'number' && data.shape.length === 3 && data.shape[2] !== network['inChannels']) {
    reader.fail('data.shape', `is [${data.shape.join(', ')}], but network.inChannels is ${String(network['inChannels'])}`);
  }
  if (typeof network['dataDimension'] === 'number' && (data.shape.length !== 1 || data.shape[0] !== network['dataDimension'])) {
    reader.fail('data.shape', `is [${data.shape.join(', ')}], but network.dataDimension is ${String(network['dataDimension'])}`);
  }
  const networkClasses = network['numClasses'] ?? null;
  if ((conditioning?.numClasses ?? null) !== networkClasses) {
    reader.fail(
      'conditioning',
      `says ${conditioning ? `${conditioning.numClasses} classes` : 'unconditional'}, but network.numClasses is ${String(networkClasses)}`,
    );
  }
  for (const field of ['prediction', 'variance'] as const) {
    if (network[field] !== undefined && network[field] !== metadata[field]) {
      reader.fail(field, `is ${describe(metadata[field])}, but network.${field} is ${describe(network[field])}`);
    }
  }
}

/** True for network types that are denoisers (they have a prediction and a variance). */
function isDenoiser(type: string): boolean {
  return type !== 'classifier' && type !== 'evaluation-classifier';
}

/** Reads format version 1: every field its own `__metadata__` entry (docs/model-format.md). */
function readVersion1(reader: MetadataReader, entries: Readonly<Record<string, string>>): ModelFileMetadata {
  const entry = (key: string): string => {
    const text = Object.hasOwn(entries, key) ? entries[key] : undefined;
    if (text === undefined) reader.fail(key, 'is missing');
    return text as string;
  };
  const version = Number(entry('formatVersion'));
  if (version !== MODEL_FORMAT_VERSION) {
    reader.fail(
      'formatVersion',
      `is ${JSON.stringify(entries['formatVersion'])}; this version of @tfjs-diffusion/checkpoints reads versions 0 and ${MODEL_FORMAT_VERSION}`,
    );
  }
  const network = readNetwork(reader, reader.json('network', entry('network')));
  const scheduleValue = reader.json('schedule', entry('schedule'));
  const denoiser = isDenoiser(network.type);
  const prediction = entries['prediction'] === undefined && !denoiser ? null : reader.choice('prediction', entry('prediction'), PREDICTION_KINDS);
  const variance = entries['variance'] === undefined && !denoiser ? null : reader.choice('variance', entry('variance'), VARIANCE_KINDS);
  const metadata: ModelFileMetadata = {
    formatVersion: version,
    network,
    schedule: scheduleValue === null ? null : readSchedule(reader, scheduleValue),
    prediction,
    variance,
    conditioning: readConditioning(reader, reader.json('conditioning', entry('conditioning'))),
    data: readData(reader, reader.json('data', entry('data'))),
    weights: reader.choice('weights', entry('weights'), ['ema', 'raw'] as const),
    ...(Object.hasOwn(entries, 'training') ? { training: readTraining(reader, 'training', reader.json('training', entry('training'))) } : {}),
  };
  if (denoiser && metadata.schedule === null) reader.fail('schedule', `is required for a ${network.type} denoiser`);
  crossCheck(reader, metadata);
  return metadata;
}

function readTraining(reader: MetadataReader, field: string, value: unknown): TrainingMetadata {
  const training = reader.object(field, value);
  reader.integer(`${field}.step`, training['step'], 0, Number.MAX_SAFE_INTEGER);
  return training as TrainingMetadata;
}

/** The format markers the CLI wrote before format version 1. */
const VERSION_0_TRAINING = 'tfjs-diffusion-training/1';

/**
 * Reads format version 0, the layout the CLI wrote before version 1: the network config under
 * 'config', the schedule under 'schedule', prediction/variance/classes inside the config, EMA weights
 * marked by `weights: "ema ..."` (shipped) or stored under 'ema.' (training checkpoint, `format`
 * 'tfjs-diffusion-training/1', trainer state under 'trainer').
 */
function readVersion0(reader: MetadataReader, entries: Readonly<Record<string, string>>): ModelFileMetadata {
  if (!Object.hasOwn(entries, 'config')) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${reader.fileName}: __metadata__ has neither 'formatVersion' nor 'config', so this is not a tfjs-diffusion model file`,
    );
  }
  const network = readNetwork(reader, reader.json('network', entries['config'] as string));
  const type = network.type;
  const denoiser = isDenoiser(type);
  const scheduleText = Object.hasOwn(entries, 'schedule') ? entries['schedule'] : undefined;
  const schedule = scheduleText === undefined ? null : readSchedule(reader, reader.json('schedule', scheduleText));
  if (denoiser && schedule === null) reader.fail('schedule', `is missing; a ${type} denoiser needs its training schedule`);
  const numClasses = network['numClasses'];
  const conditioning = typeof numClasses === 'number' ? { numClasses, nullClass: denoiser ? numClasses : null } : null;
  const shape =
    typeof network['dataDimension'] === 'number'
      ? [network['dataDimension']]
      : [network['imageSize'] as number, network['imageSize'] as number, network['inChannels'] as number];
  const training = entries['format'] === VERSION_0_TRAINING;
  const metadata: ModelFileMetadata = {
    formatVersion: 0,
    network,
    schedule,
    prediction: denoiser ? reader.choice('network.prediction', network['prediction'] ?? 'epsilon', PREDICTION_KINDS) : null,
    variance: denoiser
      ? reader.choice('network.variance', network['variance'] ?? (type === 'unet' ? 'fixed-large' : 'fixed-small'), VARIANCE_KINDS)
      : null,
    conditioning,
    data: readData(reader, { shape, range: [-1, 1] }),
    weights: !training && String(entries['weights'] ?? '').startsWith('ema') ? 'ema' : 'raw',
    ...(training ? { training: readTraining(reader, 'trainer', reader.json('trainer', entries['trainer'] ?? 'null')) } : {}),
  };
  crossCheck(reader, metadata);
  return metadata;
}

/**
 * Validates a model file's `__metadata__` strings (format version 1, or the CLI's earlier layout read
 * as version 0) before any tensor is decoded: every field typed, sizes bounded by MODEL_FILE_LIMITS,
 * JSON nesting bounded; errors are `invalid-checkpoint` naming the file and `__metadata__.<field>`.
 */
export function readModelMetadata(entries: Readonly<Record<string, string>>, fileName: string): ModelFileMetadata {
  return Object.hasOwn(entries, 'formatVersion')
    ? readVersion1(new MetadataReader(fileName), entries)
    : readVersion0(new MetadataReader(fileName, 'config'), entries);
}

/** The `__metadata__` strings of format version 1 for `metadata` (validated by reading them back), plus `extra` entries. */
export function modelMetadataEntries(
  metadata: ModelFileMetadataInput,
  extra: Readonly<Record<string, string>> = {},
  fileName = '<model file>',
): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra)) {
    if ((MODEL_METADATA_KEYS as readonly string[]).includes(key) || key === 'config' || key === 'format' || key === 'trainer') {
      throw new DiffusionError('invalid-argument', `writeModelFile: extra metadata must not use the reserved key '${key}'`);
    }
    if (typeof value !== 'string')
      throw new DiffusionError('invalid-argument', `writeModelFile: extra metadata '${key}' must be a string, got ${typeof value}`);
    entries[key] = value;
  }
  const json = (field: string, value: unknown): string => {
    try {
      return JSON.stringify(value ?? null);
    } catch (error) {
      throw new DiffusionError('invalid-argument', `writeModelFile: metadata.${field} is not JSON-serialisable (${(error as Error).message})`, {
        cause: error,
      });
    }
  };
  entries['formatVersion'] = String(MODEL_FORMAT_VERSION);
  entries['network'] = json('network', metadata.network);
  entries['schedule'] = json('schedule', metadata.schedule);
  if (metadata.prediction !== null && metadata.prediction !== undefined) entries['prediction'] = metadata.prediction;
  if (metadata.variance !== null && metadata.variance !== undefined) entries['variance'] = metadata.variance;
  entries['conditioning'] = json('conditioning', metadata.conditioning);
  entries['data'] = json('data', metadata.data);
  entries['weights'] = String(metadata.weights);
  if (metadata.training !== undefined) entries['training'] = json('training', metadata.training);
  try {
    readModelMetadata(entries, fileName);
  } catch (error) {
    if (error instanceof DiffusionError) throw new DiffusionError('invalid-argument', `writeModelFile: ${error.message}`, { cause: error });
    throw error;
  }
  return entries;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
