import { randomInt } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { badField } from './request-error.js';
import type { ModelDescription } from './served-model.js';
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

/** Steps when the request names none: quick, and DDIM at 25 steps already draws clean digits. */
export const DEFAULT_STEPS = 25;
/** The largest guidance scale accepted. */
export const MAX_SCALE = 100;
/** Seeds are unsigned 32-bit integers. */
export const MAX_SEED = 2 ** 32 - 1;

/** A validated sampling request with every default filled in: one image per (class, copy), rows in the order of `classes`. */
export interface SampleRequest extends SamplingSettings {
  /** One grid row per entry, in this order ([0] for an unconditional model). */
  readonly classes: readonly number[];
  /** Images per class: the grid's columns. */
  readonly perClass: number;
  /** The request's own noise seed: x_T and every per-step noise of its images come from it. */
  readonly seed: number;
  readonly format: OutputFormat;
}

/** What requests are checked against: the served models and the most images one request may ask for. */
export interface SampleRequestLimits {
  readonly models: readonly ModelDescription[];
  /** The most images in one request (and one batch): --max-batch. */
  readonly maxSamples: number;
}

const stringEnum = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>(Type.String({ enum: [...values], description }));

/**
 * The JSON Schema (TypeBox) of a POST /v1/samples and POST /v1/jobs body: the one source of type
 * and range validation (Fastify compiles it with Ajv) and of the OpenAPI document. Ranges are the
 * loosest over the served models; resolveSampleRequest checks the chosen model's own limits.
 */
export function sampleRequestSchema(limits: SampleRequestLimits) {
  const { models, maxSamples } = limits;
  const maxClasses = Math.max(1, ...models.map((model) => model.numClasses ?? 1));
  const maxTimesteps = Math.max(1, ...models.map((model) => model.timesteps));
  return Type.Object(
    {
      model: Type.Optional(
        stringEnum(
          models.map((model) => model.name),
          `the served model (default: ${models[0]?.name ?? 'the first one'})`,
        ),
      ),
      classes: Type.Optional(
        Type.Array(Type.Integer({ minimum: 0, maximum: maxClasses - 1 }), {
          minItems: 1,
          maxItems: maxSamples,
          description: "the classes to draw, one grid row each (default: all of the model's classes); leave out for an unconditional model",
        }),
      ),
      perClass: Type.Optional(Type.Integer({ minimum: 1, maximum: maxSamples, description: 'images per class: the grid columns (default 1)' })),
      sampler: Type.Optional(stringEnum(SAMPLER_NAMES, 'default ddim')),
      steps: Type.Optional(
        Type.Integer({ minimum: 1, maximum: maxTimesteps, description: `sampling steps, at most the model's T (default ${DEFAULT_STEPS})` }),
      ),
      eta: Type.Optional(
        Type.Number({ minimum: 0, maximum: 1, description: `only for ${ETA_SAMPLERS.join(', ')} (default 0 for ddim, 1 for euler-ancestral)` }),
      ),
      karras: Type.Optional(Type.Boolean({ description: `Karras et al. sigmas; only for ${KARRAS_SAMPLERS.join(', ')}` })),
      guidance: Type.Optional(stringEnum(GUIDANCE_NAMES, 'none, classifier-free (cfg) or classifier guidance (default none)')),
      scale: Type.Optional(
        Type.Number({
          minimum: 0,
          maximum: MAX_SCALE,
          description: 'guidance scale w; w = 0 means no guidance (default 0 without guidance, else 1)',
        }),
      ),
      seed: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SEED, description: 'the request noise seed (default random, reported)' })),
      format: Type.Optional(stringEnum(OUTPUT_FORMATS, 'png (a grid) or json (default png)')),
    },
    { additionalProperties: false, description: 'What to sample. Every field is optional.' },
  );
}

/** The body type the schema accepts. */
export type SampleRequestBody = Static<ReturnType<typeof sampleRequestSchema>>;

/** The schema's property names: the fields a body may have. */
export const SAMPLE_REQUEST_FIELDS = [
  'model',
  'classes',
  'perClass',
  'sampler',
  'steps',
  'eta',
  'karras',
  'guidance',
  'scale',
  'seed',
  'format',
] as const;

/** The served model a request names (the first one when it names none). */
export function findModel(limits: SampleRequestLimits, name: string | undefined): ModelDescription {
  const model = name === undefined ? limits.models[0] : limits.models.find((candidate) => candidate.name === name);
  if (model === undefined) {
    throw badField(
      'model',
      name === undefined
        ? 'no model is served'
        : `unknown model ${JSON.stringify(name)}; the served models are ${limits.models.map((entry) => entry.name).join(', ')}`,
    );
  }
  return model;
}

/**
 * Fills in the defaults of a schema-valid body and checks what a schema cannot: the chosen
 * model's classes and timesteps, settings that apply only to some samplers, guidance the model
 * cannot do, and the image count. Throws RequestError 400 naming the field the client sent
 * (a request that sent no `classes` is never blamed for the model's default classes).
 */
export function resolveSampleRequest(body: SampleRequestBody, limits: SampleRequestLimits): SampleRequest {
  const model = findModel(limits, body.model);
  const { numClasses, timesteps } = model;
  let classes: readonly number[];
  if (numClasses === null) {
    if (body.classes !== undefined) throw badField('classes', `model ${model.name} is unconditional; leave classes out`);
    classes = [0];
  } else if (body.classes === undefined) {
    classes = Array.from({ length: numClasses }, (_, index) => index);
  } else {
    body.classes.forEach((label, index) => {
      if (label >= numClasses)
        throw badField(
          'classes',
          `entry ${index} must be an integer in [0, ${numClasses - 1}] (model ${model.name} has ${numClasses} classes), got ${label}`,
        );
    });
    classes = body.classes;
  }
  const perClass = body.perClass ?? 1;
  const sampler: SamplerName = body.sampler ?? 'ddim';
  const steps = body.steps ?? Math.min(DEFAULT_STEPS, timesteps);
  if (steps > timesteps) throw badField('steps', `must be at most ${timesteps} (model ${model.name} has T = ${timesteps} timesteps), got ${steps}`);
  if (body.eta !== undefined && !ETA_SAMPLERS.includes(sampler))
    throw badField('eta', `applies to ${ETA_SAMPLERS.join(', ')}, not to sampler ${sampler}`);
  const eta = body.eta ?? (sampler === 'euler-ancestral' ? 1 : 0);
  const karras = body.karras === true;
  if (karras && !KARRAS_SAMPLERS.includes(sampler)) throw badField('karras', `applies to ${KARRAS_SAMPLERS.join(', ')}, not to sampler ${sampler}`);
  const guidance: GuidanceName = body.guidance ?? 'none';
  if (guidance === 'cfg' && model.nullClass === null)
    throw badField('guidance', `"cfg" is not available: model ${model.name} was not trained with a null class (label dropout)`);
  if (guidance === 'classifier' && model.classifierUnavailable !== undefined)
    throw badField('guidance', `"classifier" is not available: ${model.classifierUnavailable}`);
  const scale = body.scale ?? (guidance === 'none' ? 0 : 1);
  if (guidance === 'none' && scale !== 0) throw badField('scale', `${scale} needs guidance "cfg" or "classifier" (guidance is "none")`);
  const images = classes.length * perClass;
  if (images > limits.maxSamples) {
    const counted = `${classes.length} classes x ${perClass} per class = ${images} images, more than the ${limits.maxSamples} one request may ask for on this server`;
    if (body.perClass !== undefined && perClass > 1) throw badField('perClass', counted);
    if (body.classes !== undefined) throw badField('classes', counted);
    throw badField('body', `${counted} (the default is every class of model ${model.name}): send classes with at most ${limits.maxSamples} entries`);
  }
  const seed = body.seed ?? randomInt(0, MAX_SEED + 1);
  const format: OutputFormat = body.format ?? 'png';
  return { model: model.name, classes, perClass, sampler, steps, eta, karras, guidance, scale, seed, format };
}

/** The class label of every image of a request, row by row (classes[0] perClass times, then classes[1], ...). */
export function requestLabels(request: Pick<SampleRequest, 'classes' | 'perClass'>): Int32Array {
  return Int32Array.from(request.classes.flatMap((label) => new Array<number>(request.perClass).fill(label)));
}

/** The request field an error at a JSON pointer (Ajv's instancePath, TypeBox's path) belongs to: its first segment, or 'body'. */
export function fieldOfPath(path: string): string {
  const first = path.split('/')[1];
  return first === undefined || first === '' ? 'body' : first.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Checks a body against sampleRequestSchema with TypeBox's own checker (the worker re-checks job
 * data this way; the HTTP API checks the same schema through Fastify's Ajv) and resolves it.
 */
export function parseSampleRequest(body: unknown, limits: SampleRequestLimits): SampleRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badField('body', 'must be a JSON object');
  const schema = sampleRequestSchema(limits);
  for (const key of Object.keys(body)) {
    if (!(SAMPLE_REQUEST_FIELDS as readonly string[]).includes(key))
      throw badField(key, `unknown field; the fields are ${SAMPLE_REQUEST_FIELDS.join(', ')}`);
  }
  const first = Value.Errors(schema, body).First();
  if (first !== undefined) {
    const field = fieldOfPath(first.path);
    const entry = first.path.split('/').length > 2 ? ` entry ${first.path.split('/').slice(2).join('/')}` : '';
    throw badField(field, `${entry.trim()}${entry ? ' ' : ''}${first.message.toLowerCase()}, got ${JSON.stringify(first.value)}`);
  }
  return resolveSampleRequest(body as SampleRequestBody, limits);
}
