import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiffusionError } from '@tfjs-diffusion/core';
import { HttpError, badField } from './http-error.js';
import { encodeGridPng } from './image-grid.js';
import { parseSampleRequest } from './sample-request.js';
import type { SampleResult, SampleService } from './sample-service.js';

export interface StartServerOptions {
  readonly service: SampleService;
  /** Port to listen on (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** The largest request body accepted; larger gives 413 (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** What /healthz reports: the active tfjs backend, and the model files. */
  readonly backend?: string;
  readonly modelPath?: string;
  readonly classifierPath?: string;
  /** Where server errors (500s) are reported (default console.error). */
  readonly log?: (message: string) => void;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly server: Server;
  /** Graceful shutdown: stops accepting, finishes queued and running requests, then closes every connection. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

/** Reads the whole body; past `limit` bytes it keeps reading (to answer cleanly) but rejects with 413. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > limit;
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) reject(new HttpError(413, `body: larger than the ${limit} bytes accepted`, { field: 'body', headers: { Connection: 'close' } }));
      else resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const mediaType = value.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType?.endsWith('+json') ?? false);
}

function resultJson(result: SampleResult, backend: string | undefined): unknown {
  const { request, shape } = result;
  const sampleSize = shape.slice(1).reduce((product, size) => product * size, 1);
  const samples: number[][] = [];
  for (let index = 0; index < result.labels.length; index += 1) {
    samples.push(Array.from(result.samples.subarray(index * sampleSize, (index + 1) * sampleSize)));
  }
  return {
    shape,
    classes: request.classes,
    perClass: request.perClass,
    labels: Array.from(result.labels),
    sampler: request.sampler,
    steps: request.steps,
    eta: request.eta,
    karras: request.karras,
    guidance: request.guidance,
    scale: request.scale,
    seed: request.seed,
    backend: backend ?? null,
    batch: result.batch,
    waitMilliseconds: result.waitMilliseconds,
    samplingMilliseconds: result.samplingMilliseconds,
    range: [-1, 1],
    layout: 'NHWC, one flat array per sample',
    samples,
  };
}

/**
 * Starts the HTTP API (node:http) over a SampleService: POST /v1/samples, GET /healthz.
 * Resolves once it listens; `close()` shuts down gracefully.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { service } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const log = options.log ?? ((message: string) => console.error(message));
  let closing = false;

  async function handleSamples(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request, maxBodyBytes);
    if (!isJsonContentType(request.headers['content-type'])) {
      throw badField('content-type', `must be application/json, got ${JSON.stringify(request.headers['content-type'] ?? '(none)')}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw badField('body', `malformed JSON (${(error as Error).message})`);
    }
    const sampleRequest = parseSampleRequest(parsed, service.limits);
    const result = await service.submit(sampleRequest);
    const headers: Record<string, string> = {
      'X-Seed': String(sampleRequest.seed),
      'X-Batch-Id': String(result.batch.id),
      'X-Batch-Requests': String(result.batch.requests),
      'X-Batch-Samples': String(result.batch.samples),
      ...(closing ? { Connection: 'close' } : {}),
    };
    if (sampleRequest.format === 'json') {
      sendJson(response, 200, resultJson(result, options.backend), headers);
      return;
    }
    const [, height, width, channels] = result.shape as [number, number, number, number];
    const png = encodeGridPng(result.samples, { rows: sampleRequest.classes.length, columns: sampleRequest.perClass, height, width, channels, pad: 2 });
    response.writeHead(200, { ...headers, 'Content-Type': 'image/png', 'Content-Length': png.length });
    response.end(png);
  }

  function handleHealth(response: ServerResponse, headOnly: boolean): void {
    const status = service.status();
    const body = {
      status: closing ? 'shutting-down' : 'ok',
      backend: options.backend ?? null,
      model: { loaded: true, path: options.modelPath ?? null, numClasses: service.limits.numClasses, timesteps: service.limits.timesteps },
      classifier: { loaded: service.limits.classifierUnavailable === undefined, path: options.classifierPath ?? null },
      queueLength: status.queuedRequests,
      queue: { requests: status.queuedRequests, samples: status.queuedSamples, maxSamples: service.maxQueue },
      running: { requests: status.runningRequests, samples: status.runningSamples },
      maxBatch: service.maxBatch,
      batchWindowMilliseconds: service.batchWindowMilliseconds,
      batches: status.batches,
      networkCalls: status.networkCalls,
    };
    if (headOnly) {
      response.writeHead(closing ? 503 : 200, { 'Content-Type': JSON_TYPE });
      response.end();
      return;
    }
    sendJson(response, closing ? 503 : 200, body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const method = request.method ?? 'GET';
    if (path === '/v1/samples') {
      if (method !== 'POST') throw new HttpError(405, `${method} ${path}: use POST`, { headers: { Allow: 'POST' } });
      await handleSamples(request, response);
    } else if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} ${path}: use GET`, { headers: { Allow: 'GET, HEAD' } });
      handleHealth(response, method === 'HEAD');
    } else {
      throw new HttpError(404, `no route ${path}; the routes are POST /v1/samples and GET /healthz`);
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // drain whatever body is left so that the client reads the answer, not a reset
      request.resume();
      const closeHeader: Record<string, string> = closing ? { Connection: 'close' } : {};
      if (error instanceof HttpError) {
        sendJson(response, error.status, { error: error.message, ...(error.field ? { field: error.field } : {}) }, { ...error.headers, ...closeHeader });
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      log(`${request.method ?? 'GET'} ${request.url ?? '/'} failed: ${error instanceof Error && error.stack ? error.stack : message}`);
      const status = error instanceof DiffusionError && error.code === 'invalid-argument' ? 400 : 500;
      sendJson(response, status, { error: message }, closeHeader);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closed: Promise<void> | undefined;
  return {
    url,
    server,
    close() {
      closed ??= (async () => {
        closing = true;
        // 1. stop accepting connections; 2. finish every queued and running request
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await service.close();
        // 3. answers in flight go out with Connection: close; idle keep-alive sockets are closed now
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        await stopped;
        clearTimeout(force);
      })();
      return closed;
    },
  };
}
