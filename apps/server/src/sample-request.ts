import { randomInt } from 'node:crypto';
import { badField } from './http-error.js';
import {
  ETA_SAMPLERS,
  GUIDANCE_NAMES,
  KARRAS_SAMPLERS,
  SAMPLER_NAMES,
  type GuidanceName,
  type SamplerName,
  type SamplingSettings,
} from './sampling-settings.js';

export const OUTPUT_FORMATS = ['png', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The fields POST /v1/samples accepts; any other is a 400. */
export const SAMPLE_REQUEST_FIELDS = ['classes', 'perClass', 'guidance', 'scale', 'sampler', 'steps', 'eta', 'karras', 'seed', 'format'] as const;

/** Steps when the request names none: quick, and DDIM at 25 steps already draws clean digits. */
export const DEFAULT_STEPS = 25;
/** The largest guidance scale accepted. */
export const MAX_SCALE = 100;
/** Seeds are unsigned 32-bit integers. */
export const MAX_SEED = 2 ** 32 - 1;

/** A validated sampling request: one sample per (class, copy), rows in the order of `classes`. */
export interface SampleRequest extends SamplingSettings {
  /** One grid row per entry, in this order. */
  readonly classes: readonly number[];
  /** Samples per class: the grid's columns. */
  readonly perClass: number;
  /** The request's own noise seed: x_T and every per-step noise of its samples come from it. */
  readonly seed: number;
  readonly format: OutputFormat;
}

/** What a request is checked against: the loaded model and the service's limits. */
export interface SampleRequestLimits {
  /** Classes of the model (labels 0..numClasses-1); null for an unconditional model. */
  readonly numClasses: number | null;
  /** Training timesteps T: the most sampling steps. */
  readonly timesteps: number;
  /** The most samples one request may ask for (classes.length * perClass). */
  readonly maxSamples: number;
  /** Why classifier-free guidance is unavailable (undefined when it is available). */
  readonly cfgUnavailable?: string;
  /** Why classifier guidance is unavailable (undefined when it is available). */
  readonly classifierUnavailable?: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function integerField(body: Record<string, unknown>, field: string, fallback: number, minimum: number, maximum: number, hint = ''): number {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badField(field, `must be an integer, got ${describe(value)}`);
  if (value < minimum || value > maximum) throw badField(field, `must be in [${minimum}, ${maximum}]${hint}, got ${value}`);
  return value;
}

function numberField(body: Record<string, unknown>, field: string, fallback: number, minimum: number, maximum: number): number {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badField(field, `must be a number, got ${describe(value)}`);
  if (value < minimum || value > maximum) throw badField(field, `must be in [${minimum}, ${maximum}], got ${value}`);
  return value;
}

function choiceField<T extends string>(body: Record<string, unknown>, field: string, choices: readonly T[], fallback: T): T {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw badField(field, `must be one of ${choices.join(', ')}, got ${describe(value)}`);
  if (!(choices as readonly string[]).includes(value)) throw badField(field, `unknown value ${JSON.stringify(value)}; must be one of ${choices.join(', ')}`);
  return value as T;
}

function classesField(body: Record<string, unknown>, limits: SampleRequestLimits): number[] {
  const value = body['classes'];
  const { numClasses } = limits;
  if (numClasses === null) {
    if (value !== undefined) throw badField('classes', 'the loaded model is unconditional; leave classes out');
    return [0];
  }
  if (value === undefined) return Array.from({ length: numClasses }, (_, index) => index);
  if (!Array.isArray(value)) throw badField('classes', `must be an array of integers in [0, ${numClasses - 1}], got ${describe(value)}`);
  if (value.length === 0) throw badField('classes', 'must not be empty');
  if (value.length > limits.maxSamples) throw badField('classes', `too many: at most ${limits.maxSamples} classes per request, got ${value.length}`);
  value.forEach((entry: unknown, index) => {
    if (typeof entry !== 'number' || !Number.isInteger(entry) || entry < 0 || entry >= numClasses) {
      throw badField('classes', `entry ${index} must be an integer in [0, ${numClasses - 1}], got ${describe(entry)}`);
    }
  });
  return value as number[];
}

/**
 * Checks a POST /v1/samples body and fills in the defaults; throws HttpError 400 naming the field
 * and what was wrong (unknown field, wrong type, out of range, unknown sampler, too many samples).
 */
export function parseSampleRequest(body: unknown, limits: SampleRequestLimits): SampleRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badField('body', `must be a JSON object, got ${describe(body)}`);
  const fields = body as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    if (!(SAMPLE_REQUEST_FIELDS as readonly string[]).includes(field)) {
      throw badField(field, `unknown field; the fields are ${SAMPLE_REQUEST_FIELDS.join(', ')}`);
    }
  }
  const classes = classesField(fields, limits);
  const perClassLimit = Math.max(1, Math.floor(limits.maxSamples / classes.length));
  const perClass = integerField(fields, 'perClass', 1, 1, perClassLimit, ` (at most ${limits.maxSamples} samples per request over ${classes.length} classes)`);

  const sampler: SamplerName = choiceField(fields, 'sampler', SAMPLER_NAMES, 'ddim');
  const steps = integerField(fields, 'steps', Math.min(DEFAULT_STEPS, limits.timesteps), 1, limits.timesteps, ` (the model has T = ${limits.timesteps} timesteps)`);
  if (fields['eta'] !== undefined && !ETA_SAMPLERS.includes(sampler)) throw badField('eta', `applies to ${ETA_SAMPLERS.join(', ')}, not to sampler ${sampler}`);
  const eta = numberField(fields, 'eta', sampler === 'euler-ancestral' ? 1 : 0, 0, 1);
  const karrasValue = fields['karras'];
  if (karrasValue !== undefined && typeof karrasValue !== 'boolean') throw badField('karras', `must be true or false, got ${describe(karrasValue)}`);
  const karras = karrasValue === true;
  if (karras && !KARRAS_SAMPLERS.includes(sampler)) throw badField('karras', `applies to ${KARRAS_SAMPLERS.join(', ')}, not to sampler ${sampler}`);

  const guidance: GuidanceName = choiceField(fields, 'guidance', GUIDANCE_NAMES, 'none');
  if (guidance === 'cfg' && limits.cfgUnavailable !== undefined) throw badField('guidance', `"cfg" is not available: ${limits.cfgUnavailable}`);
  if (guidance === 'classifier' && limits.classifierUnavailable !== undefined) {
    throw badField('guidance', `"classifier" is not available: ${limits.classifierUnavailable}`);
  }
  const scale = numberField(fields, 'scale', guidance === 'none' ? 0 : 1, 0, MAX_SCALE);
  if (guidance === 'none' && scale !== 0) throw badField('scale', `${scale} needs guidance "cfg" or "classifier" (guidance is "none")`);

  const seed = integerField(fields, 'seed', randomInt(0, MAX_SEED + 1), 0, MAX_SEED);
  const format: OutputFormat = choiceField(fields, 'format', OUTPUT_FORMATS, 'png');
  return { classes, perClass, sampler, steps, eta, karras, guidance, scale, seed, format };
}

/** The class label of every sample of a request, row by row (classes[0] perClass times, then classes[1], ...). */
export function requestLabels(request: Pick<SampleRequest, 'classes' | 'perClass'>): Int32Array {
  return Int32Array.from(request.classes.flatMap((label) => new Array<number>(request.perClass).fill(label)));
}
