import { DiffusionError, type NoiseSchedule } from '@tfjs-diffusion/core';
import { parseSafetensors, readConfigFromMetadata, type ParsedSafetensors } from '@tfjs-diffusion/checkpoints';
import { createNoiseAwareClassifier, createUNet, loadParameters, type NoiseAwareClassifier, type ParameterData, type UNetModel } from '@tfjs-diffusion/networks';
import { createSchedule } from '@tfjs-diffusion/schedules';
// the repository's shipped models, bundled as files of the build (no network access beyond the page's origin)
import denoiserUrl from '../../../models/mnist-unet.safetensors?url';
import classifierUrl from '../../../models/mnist-classifier.safetensors?url';

export const DENOISER_FILE = 'mnist-unet.safetensors';
export const CLASSIFIER_FILE = 'mnist-classifier.safetensors';

/** Prefixes of training-only tensors (EMA, Adam moments, trainer state) that a model load skips. */
const NON_MODEL_PREFIXES = ['ema.', 'adam.m.', 'adam.v.', 'trainer.'];
const SCHEDULE_KINDS = ['linear', 'cosine', 'scaled-linear', 'sigmoid'];

async function fetchSafetensors(url: string, fileName: string): Promise<ParsedSafetensors> {
  const response = await fetch(url);
  if (!response.ok) throw new DiffusionError('invalid-checkpoint', `${fileName}: HTTP ${response.status} from ${url}`);
  return parseSafetensors(new Uint8Array(await response.arrayBuffer()), fileName);
}

function modelTensors(file: ParsedSafetensors): Map<string, ParameterData> {
  const out = new Map<string, ParameterData>();
  for (const [name, tensor] of file.tensors) if (!NON_MODEL_PREFIXES.some((prefix) => name.startsWith(prefix))) out.set(name, tensor);
  return out;
}

/** The training schedule stored in a file's `__metadata__.schedule` ({"kind", "timesteps"}). */
function scheduleFrom(file: ParsedSafetensors, fileName: string): NoiseSchedule {
  let spec: { kind?: unknown; timesteps?: unknown } | undefined;
  try {
    spec = JSON.parse(file.metadata['schedule'] ?? 'null') as typeof spec;
  } catch {
    spec = undefined;
  }
  if (!SCHEDULE_KINDS.includes(String(spec?.kind)) || !Number.isInteger(spec?.timesteps)) {
    throw new DiffusionError('invalid-checkpoint', `${fileName}: __metadata__.schedule must be {"kind", "timesteps"}, got ${JSON.stringify(spec ?? null)}`);
  }
  return createSchedule({ kind: spec?.kind as 'cosine', timesteps: spec?.timesteps as number });
}

/** Builds a network, loads its parameters strictly and disposes it again if they do not match. */
function withParameters<T extends { dispose(): void; readonly parameters: ReadonlyMap<string, import('@tensorflow/tfjs-core').Variable> }>(
  network: T,
  file: ParsedSafetensors,
  fileName: string,
): T {
  try {
    loadParameters(network, modelTensors(file));
  } catch (error) {
    network.dispose();
    throw new DiffusionError('invalid-checkpoint', `${fileName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return network;
}

export interface ShippedDenoiser {
  readonly model: UNetModel;
  readonly schedule: NoiseSchedule;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Loads models/mnist-unet.safetensors: the class-conditional ADM U-Net (EMA weights) and its cosine schedule. */
export async function loadShippedDenoiser(): Promise<ShippedDenoiser> {
  const file = await fetchSafetensors(denoiserUrl, DENOISER_FILE);
  const config = readConfigFromMetadata(file.metadata, DENOISER_FILE);
  if (config['type'] !== 'unet') throw new DiffusionError('invalid-checkpoint', `${DENOISER_FILE} holds a ${JSON.stringify(config['type'])} network, not a U-Net`);
  const schedule = scheduleFrom(file, DENOISER_FILE);
  return { model: withParameters(createUNet(config), file, DENOISER_FILE), schedule, metadata: file.metadata };
}

/** Loads models/mnist-classifier.safetensors: the noise-aware classifier for classifier guidance. */
export async function loadShippedClassifier(): Promise<NoiseAwareClassifier> {
  const file = await fetchSafetensors(classifierUrl, CLASSIFIER_FILE);
  const config = readConfigFromMetadata(file.metadata, CLASSIFIER_FILE);
  if (config['type'] !== 'classifier') {
    throw new DiffusionError('invalid-checkpoint', `${CLASSIFIER_FILE} holds a ${JSON.stringify(config['type'])} network, not a noise-aware classifier`);
  }
  return withParameters(createNoiseAwareClassifier(config), file, CLASSIFIER_FILE);
}
