import { Type } from '@sinclair/typebox';

/** Every error answer: what was wrong, and the request field at fault when there is one. */
export const errorSchema = Type.Object(
  { error: Type.String(), field: Type.Optional(Type.String()) },
  { description: 'What was wrong; field names the request field at fault' },
);

const batchSchema = Type.Object(
  { id: Type.Integer(), requests: Type.Integer(), samples: Type.Integer() },
  { description: 'The batch the request was sampled in (ids count per process)' },
);

/** POST /v1/samples with format json, and a finished job's result. */
export const sampleJsonSchema = Type.Object({
  model: Type.String(),
  shape: Type.Array(Type.Integer(), { description: '[images, height, width, channels]' }),
  classes: Type.Array(Type.Integer()),
  perClass: Type.Integer(),
  labels: Type.Array(Type.Integer(), { description: 'the class of each image' }),
  labelNames: Type.Optional(Type.Array(Type.String())),
  sampler: Type.String(),
  steps: Type.Integer(),
  eta: Type.Number(),
  karras: Type.Boolean(),
  guidance: Type.String(),
  scale: Type.Number(),
  seed: Type.Integer(),
  backend: Type.Union([Type.String(), Type.Null()]),
  worker: Type.Union([Type.String(), Type.Null()], { description: 'the queue worker that sampled it (host:pid), null in process' }),
  attempt: Type.Union([Type.Integer(), Type.Null()], {
    description: 'which attempt of the queue job gave the images: 2 when the first worker died mid-job; null in process',
  }),
  batch: batchSchema,
  waitMilliseconds: Type.Number(),
  samplingMilliseconds: Type.Number(),
  range: Type.Array(Type.Number()),
  layout: Type.String(),
  samples: Type.Array(Type.Array(Type.Number()), { description: 'one flat NHWC array per image, values in [-1, 1]' }),
});

export const jobCreatedSchema = Type.Object({
  id: Type.String(),
  state: Type.String(),
  url: Type.String(),
  seed: Type.Integer(),
  model: Type.String(),
});

export const jobSchema = Type.Object({
  id: Type.String(),
  state: Type.String({ description: 'waiting, active, completed or failed' }),
  progress: Type.Union([Type.Object({ step: Type.Integer(), totalSteps: Type.Integer() }), Type.Null()]),
  attempts: Type.Integer({ description: 'times a worker took the job (2 after a worker died mid-job)' }),
  request: Type.Object({}, { additionalProperties: true }),
  result: Type.Optional(sampleJsonSchema),
  error: Type.Optional(Type.Object({ status: Type.Integer(), error: Type.String(), field: Type.Optional(Type.String()) })),
});

export const healthSchema = Type.Object({
  status: Type.String({ description: 'ok, degraded (a model cannot sample, Redis is unreachable or no worker serves a model) or shutting-down' }),
  mode: Type.String(),
  backend: Type.Union([Type.String(), Type.Null()]),
  models: Type.Array(
    Type.Object({
      name: Type.String(),
      source: Type.String(),
      numClasses: Type.Union([Type.Integer(), Type.Null()]),
      classNames: Type.Union([Type.Array(Type.String()), Type.Null()]),
      timesteps: Type.Integer(),
      shape: Type.Array(Type.Integer()),
      cfg: Type.Boolean(),
      classifier: Type.Boolean(),
    }),
  ),
  maxBatch: Type.Integer(),
  queue: Type.Object({ waiting: Type.Integer(), active: Type.Integer() }),
  details: Type.Object({}, { additionalProperties: true }),
});
