import type { SampleResult } from './batch-scheduler.js';
import { encodeGridPng } from './image-grid.js';
import type { SampleRequest } from './sample-request.js';

/** A finished request, sampled in this process or by a queue worker (named by `worker`). */
export interface SampleOutcome extends SampleResult {
  /** The worker that sampled it (host:pid), absent in process. */
  readonly worker?: string;
  /** Which attempt of its queue job gave it: 1, or 2 when the first worker died mid-job (absent in process). */
  readonly attempt?: number;
}

/** A SampleOutcome as plain JSON for a job queue: the images as base64 of little-endian float32 (exact). */
export interface EncodedSampleOutcome {
  readonly request: SampleRequest;
  readonly shape: readonly number[];
  readonly labels: readonly number[];
  readonly samples: string;
  readonly batch: SampleResult['batch'];
  readonly waitMilliseconds: number;
  readonly samplingMilliseconds: number;
  readonly worker?: string;
  readonly attempt?: number;
}

/** Encodes an outcome for Redis: exact float32 values, about 1.33 bytes per byte of image data. */
export function encodeSampleOutcome(outcome: SampleOutcome): EncodedSampleOutcome {
  const bytes = Buffer.from(outcome.samples.buffer, outcome.samples.byteOffset, outcome.samples.byteLength);
  return {
    request: outcome.request,
    shape: outcome.shape,
    labels: Array.from(outcome.labels),
    samples: bytes.toString('base64'),
    batch: outcome.batch,
    waitMilliseconds: outcome.waitMilliseconds,
    samplingMilliseconds: outcome.samplingMilliseconds,
    ...(outcome.worker === undefined ? {} : { worker: outcome.worker }),
    ...(outcome.attempt === undefined ? {} : { attempt: outcome.attempt }),
  };
}

/** The inverse of encodeSampleOutcome. */
export function decodeSampleOutcome(encoded: EncodedSampleOutcome): SampleOutcome {
  const bytes = Buffer.from(encoded.samples, 'base64');
  const samples = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(samples.buffer).set(bytes);
  return {
    request: encoded.request,
    shape: encoded.shape,
    labels: Int32Array.from(encoded.labels),
    samples,
    batch: encoded.batch,
    waitMilliseconds: encoded.waitMilliseconds,
    samplingMilliseconds: encoded.samplingMilliseconds,
    ...(encoded.worker === undefined ? {} : { worker: encoded.worker }),
    ...(encoded.attempt === undefined ? {} : { attempt: encoded.attempt }),
  };
}

/** The JSON answer of POST /v1/samples (format json) and of a finished job. */
export function sampleOutcomeJson(outcome: SampleOutcome, extra: { backend?: string | null; classNames?: readonly string[] | null } = {}) {
  const { request, shape } = outcome;
  const sampleSize = shape.slice(1).reduce((product, size) => product * size, 1);
  const samples: number[][] = [];
  for (let index = 0; index < outcome.labels.length; index += 1)
    samples.push(Array.from(outcome.samples.subarray(index * sampleSize, (index + 1) * sampleSize)));
  return {
    model: request.model,
    shape: [...shape],
    classes: [...request.classes],
    perClass: request.perClass,
    labels: Array.from(outcome.labels),
    ...(extra.classNames ? { labelNames: Array.from(outcome.labels, (label) => extra.classNames?.[label] ?? String(label)) } : {}),
    sampler: request.sampler,
    steps: request.steps,
    eta: request.eta,
    karras: request.karras,
    guidance: request.guidance,
    scale: request.scale,
    seed: request.seed,
    backend: extra.backend ?? null,
    worker: outcome.worker ?? null,
    attempt: outcome.attempt ?? null,
    batch: outcome.batch,
    waitMilliseconds: outcome.waitMilliseconds,
    samplingMilliseconds: outcome.samplingMilliseconds,
    range: [-1, 1],
    layout: 'NHWC, one flat array per image',
    samples,
  };
}

/** The PNG answer: one grid row per class, perClass columns, 2 black pixels between and around the cells (grayscale or RGB). */
export function sampleOutcomePng(outcome: SampleOutcome): Buffer {
  const [, height, width, channels] = outcome.shape as [number, number, number, number];
  return encodeGridPng(outcome.samples, { rows: outcome.request.classes.length, columns: outcome.request.perClass, height, width, channels, pad: 2 });
}
