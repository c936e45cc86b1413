import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import {
  RequestError,
  SAMPLE_REQUEST_FIELDS,
  fieldOfPath,
  resolveSampleRequest,
  sampleOutcomeJson,
  sampleOutcomePng,
  sampleRequestSchema,
  type RequestErrorKind,
  type SampleBackend,
  type SampleOutcome,
  type SampleRequestBody,
  type ServingMetrics,
} from '@tfjs-diffusion/serving';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { errorSchema, healthSchema, jobCreatedSchema, jobSchema, sampleJsonSchema } from './response-schemas.js';

export interface BuildAppOptions {
  readonly backend: SampleBackend;
  readonly metrics: ServingMetrics;
  /** The active tfjs backend (in process) or null (queued: the workers have their own). */
  readonly tfjsBackend: string | null;
  /** Larger bodies get 413; a Content-Length over it gets 413 before the body is read (default 64 KiB). */
  readonly maxBodyBytes?: number;
  readonly headersTimeoutMilliseconds?: number;
  readonly requestTimeoutMilliseconds?: number;
  readonly keepAliveTimeoutMilliseconds?: number;
  /** A pino logger (request logs carry the request id), or false for none. */
  readonly logger: FastifyBaseLogger | false;
}

/** Routes and the methods they answer (for 405 with Allow). */
const ROUTES: readonly [RegExp, string][] = [
  [/^\/v1\/samples$/, 'POST'],
  [/^\/v1\/jobs$/, 'POST'],
  [/^\/v1\/jobs\/[^/]+$/, 'GET, HEAD'],
  [/^\/healthz$/, 'GET, HEAD'],
  [/^\/metrics$/, 'GET, HEAD'],
  [/^\/openapi\.json$/, 'GET, HEAD'],
];

interface ValidationEntry {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}

/** A schema validation failure as a 400 naming the field (Ajv's first error). */
function validationError(entries: readonly ValidationEntry[], context: string | undefined): RequestError {
  const entry = entries[0] as ValidationEntry;
  if (entry.keyword === 'additionalProperties') {
    const field = String(entry.params['additionalProperty']);
    return new RequestError(400, `${field}: unknown field; the fields are ${SAMPLE_REQUEST_FIELDS.join(', ')}`, { field, kind: 'validation' });
  }
  if (entry.keyword === 'required') {
    const field = String(entry.params['missingProperty']);
    return new RequestError(400, `${field}: required`, { field, kind: 'validation' });
  }
  const field = context === 'params' ? 'id' : fieldOfPath(entry.instancePath);
  const inner = entry.instancePath.split('/').slice(2);
  const where = inner.length > 0 ? `entry ${inner.join('/')} ` : '';
  const allowed = Array.isArray(entry.params['allowedValues']) ? `: ${(entry.params['allowedValues'] as unknown[]).join(', ')}` : '';
  const problem = field === 'body' && entry.keyword === 'type' ? 'must be a JSON object' : `${where}${entry.message ?? 'is not valid'}${allowed}`;
  return new RequestError(400, `${field}: ${problem}`, { field, kind: 'validation' });
}

/** Any error as the RequestError it is answered with. */
function asRequestError(error: FastifyError, maxBodyBytes: number): RequestError {
  if (error instanceof RequestError) return error;
  if (error.validation) return validationError(error.validation as unknown as ValidationEntry[], error.validationContext);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RequestError(413, `body: larger than the ${maxBodyBytes} bytes accepted`, {
        field: 'body',
        headers: { Connection: 'close' },
        kind: 'too-large',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RequestError(415, 'content-type: must be application/json', { field: 'content-type', kind: 'validation' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new RequestError(400, 'body: empty; send a JSON object ({} for every default)', { field: 'body', kind: 'validation' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new RequestError(400, 'content-length: does not match the body', { field: 'content-length', kind: 'validation' });
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new RequestError(400, `body: malformed JSON (${error.message})`, { field: 'body', kind: 'validation' });
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new RequestError(error.statusCode, error.message, { kind: 'validation' });
  }
  return new RequestError(500, error.message, { kind: 'sampling', cause: error });
}

/** An AbortSignal that fires when the client closes the connection before the answer is sent. */
function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client gone'));
  });
  return controller.signal;
}

function outcomeHeaders(outcome: SampleOutcome): Record<string, string> {
  return {
    'X-Model': outcome.request.model,
    'X-Seed': String(outcome.request.seed),
    'X-Batch-Id': String(outcome.batch.id),
    'X-Batch-Requests': String(outcome.batch.requests),
    'X-Batch-Samples': String(outcome.batch.samples),
    ...(outcome.worker ? { 'X-Worker': outcome.worker } : {}),
    ...(outcome.attempt ? { 'X-Attempt': String(outcome.attempt) } : {}),
  };
}

/**
 * The HTTP API on Fastify: POST /v1/samples (sync), POST /v1/jobs and GET /v1/jobs/:id (async),
 * GET /healthz, GET /metrics (Prometheus), GET /openapi.json and /docs. The TypeBox schemas are
 * both the validation (Ajv, no coercion, unknown fields refused) and the OpenAPI document.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { backend, metrics } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const { limits } = backend;
  const app = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger }),
    bodyLimit: maxBodyBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    serverFactory: (handler) =>
      createServer(
        {
          headersTimeout: options.headersTimeoutMilliseconds ?? 10_000,
          requestTimeout: options.requestTimeoutMilliseconds ?? 30_000,
          keepAliveTimeout: options.keepAliveTimeoutMilliseconds ?? 5000,
          connectionsCheckingInterval: 500,
        },
        handler,
      ),
  });
  // JSON only: a text/plain body is a 415 naming content-type, not a string that fails the schema
  app.removeContentTypeParser('text/plain');
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'tfjs-diffusion sampling API',
        version: '1',
        description: `Served models: ${limits.models.map((model) => model.name).join(', ')}. Mode: ${backend.mode}.`,
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const bodySchema = sampleRequestSchema(limits);
  const errors = { 400: errorSchema, 413: errorSchema, 415: errorSchema, 429: errorSchema, 500: errorSchema, 503: errorSchema, 504: errorSchema };
  const classNamesOf = (model: string) => limits.models.find((entry) => entry.name === model)?.classNames ?? null;
  const countError = (kind: RequestErrorKind) => metrics.errors.inc({ kind });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/v1/samples')
      metrics.requestSeconds.observe({ mode: backend.mode, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = asRequestError(error, maxBodyBytes);
    countError(answer.kind);
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ status: answer.status, field: answer.field, error: answer.message }, 'request refused');
    if (reply.raw.destroyed) return;
    void reply
      .code(answer.status)
      .headers(answer.headers)
      .send({ error: answer.message, ...(answer.field ? { field: answer.field } : {}) });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const route = ROUTES.find(([pattern]) => pattern.test(path));
    if (route) {
      void reply
        .code(405)
        .header('Allow', route[1])
        .send({ error: `${request.method} ${path}: use ${route[1]}` });
      return;
    }
    void reply.code(404).send({
      error: `no route ${request.method} ${path}; the routes are POST /v1/samples, POST /v1/jobs, GET /v1/jobs/:id, GET /healthz, GET /metrics, GET /openapi.json, GET /docs`,
    });
  });

  app.post<{ Body: SampleRequestBody }>(
    '/v1/samples',
    {
      schema: {
        summary: 'Sample images and wait for them',
        description:
          'Answers a PNG grid (one row per class, perClass columns) or, with format json, the images as numbers. Compatible requests share one network call per step; a request gets the same images for its seed whatever it is batched with.',
        body: bodySchema,
        response: {
          200: {
            description: 'The images',
            content: { 'application/json': { schema: sampleJsonSchema }, 'image/png': { schema: Type.String({ format: 'binary' }) } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const sampleRequest = resolveSampleRequest(request.body, limits);
      const outcome = await backend.sample(sampleRequest, { signal: clientGoneSignal(reply) });
      void reply.headers(outcomeHeaders(outcome));
      if (sampleRequest.format === 'json')
        return reply
          .type('application/json; charset=utf-8')
          .send(sampleOutcomeJson(outcome, { backend: options.tfjsBackend, classNames: classNamesOf(outcome.request.model) }));
      return reply.type('image/png').send(sampleOutcomePng(outcome));
    },
  );

  app.post<{ Body: SampleRequestBody }>(
    '/v1/jobs',
    {
      schema: {
        summary: 'Queue a sampling job; poll GET /v1/jobs/:id',
        body: bodySchema,
        response: { 202: jobCreatedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const sampleRequest = resolveSampleRequest(request.body, limits);
      const id = await backend.createJob(sampleRequest);
      return reply
        .code(202)
        .header('Location', `/v1/jobs/${id}`)
        .send({ id, state: 'waiting', url: `/v1/jobs/${id}`, seed: sampleRequest.seed, model: sampleRequest.model });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'A job: state, progress, and its result (JSON images) or error',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }) }),
        response: { 200: jobSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const job = await backend.getJob(request.params.id);
      if (job === undefined)
        throw new RequestError(404, `id: no job ${request.params.id} (finished jobs are kept for a while, then dropped)`, {
          field: 'id',
          kind: 'not-found',
        });
      return reply.send({
        id: job.id,
        state: job.state,
        progress: job.progress,
        attempts: job.attempts,
        request: job.request,
        ...(job.result
          ? { result: sampleOutcomeJson(job.result, { backend: options.tfjsBackend, classNames: classNamesOf(job.request.model) }) }
          : {}),
        ...(job.error ? { error: job.error } : {}),
      });
    },
  );

  app.get(
    '/healthz',
    { schema: { summary: 'ok (200) when every model can sample; else 503', response: { 200: healthSchema, 503: healthSchema } } },
    async (_request, reply) => {
      const health = await backend.health();
      const closing = app.server.listening === false;
      const status = closing ? 'shutting-down' : health.ok ? 'ok' : 'degraded';
      return reply.code(status === 'ok' ? 200 : 503).send({
        status,
        mode: backend.mode,
        backend: options.tfjsBackend,
        models: limits.models.map((model) => ({
          name: model.name,
          source: model.source,
          numClasses: model.numClasses,
          classNames: model.classNames,
          timesteps: model.timesteps,
          shape: [...model.dataShape],
          cfg: model.nullClass !== null,
          classifier: model.classifierUnavailable === undefined,
        })),
        maxBatch: limits.maxSamples,
        queue: await backend.queueDepth(),
        details: health.details,
      });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: queue depth, batch sizes, step and request latency, samples per second, errors by kind',
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
