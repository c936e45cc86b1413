import { connect } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import {
  createBatchScheduler,
  createInProcessBackend,
  createServedModel,
  createServingMetrics,
  type BatchScheduler,
  type BatchSchedulerOptions,
  type ServedModel,
} from '@tfjs-diffusion/serving';
import type { FastifyInstance } from 'fastify';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFakeModel,
  createGate,
  createTinyUNet,
  testSchedule,
  useCpuBackend,
  waitFor,
} from '../../../packages/serving/src/test-utils/test-models.js';
import { buildApp } from './build-app.js';
import { postSamples } from './test-utils/http-client.js';

const model = createTinyUNet();
let scheduler: BatchScheduler;
let app: FastifyInstance;
let url: string;

/** Starts the API over a scheduler on `models` at a free port. */
async function start(schedulerOptions: BatchSchedulerOptions, maxBodyBytes = 2048) {
  const metrics = createServingMetrics({
    processMetrics: false,
    queueDepth: async () => ({ waiting: gatedScheduler.status().queuedRequests, active: gatedScheduler.status().runningRequests }),
  });
  const gatedScheduler = createBatchScheduler({ ...schedulerOptions, metrics });
  const backend = createInProcessBackend({ scheduler: gatedScheduler });
  const server = await buildApp({ backend, metrics, tfjsBackend: tf.getBackend(), maxBodyBytes, logger: false });
  server.addHook('onClose', () => backend.close());
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  return { scheduler: gatedScheduler, app: server, url: address };
}

const fakeServed = (name = 'fake'): ServedModel =>
  createServedModel({ name, source: 'memory', model: createFakeModel(), schedule: testSchedule(), dataShape: [4, 4, 1] });

beforeAll(async () => {
  await useCpuBackend();
  const tiny = createServedModel({ name: 'tiny', source: 'tiny-unet', model, schedule: testSchedule(), dataShape: [8, 8, 1] });
  const rgb = createServedModel({
    name: 'rgb',
    source: 'memory',
    model: { ...createFakeModel(), conditioning: null },
    schedule: testSchedule(),
    dataShape: [4, 4, 3],
  });
  ({ scheduler, app, url } = await start({ models: [tiny, rgb], maxBatch: 8, maxQueue: 16, batchWindowMilliseconds: 50 }));
});

afterAll(async () => {
  await app.close();
  model.dispose();
});

describe('POST /v1/samples', () => {
  it('answers a PNG grid: one row per class, perClass columns, 2 px black padding, non-blank cells', async () => {
    const response = await postSamples(url, { classes: [3, 1, 4], perClass: 2, steps: 3, seed: 5 });
    expect(response.status, response.bytes.toString()).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-seed')).toBe('5');
    expect(response.headers.get('x-model')).toBe('tiny');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const png = PNG.sync.read(response.bytes);
    expect([png.width, png.height]).toEqual([2 + 2 * (8 + 2), 2 + 3 * (8 + 2)]);
    const grey = (x: number, y: number) => png.data[(y * png.width + x) * 4] as number;
    for (let x = 0; x < png.width; x += 1) for (const y of [0, 1, 10, 11, png.height - 1]) expect(grey(x, y)).toBe(0);
    const cell = new Set<number>();
    for (let y = 2; y < 10; y += 1) for (let x = 2; x < 10; x += 1) cell.add(grey(x, y));
    expect(cell.size).toBeGreaterThan(1);
  });

  it('answers JSON and PNG for an RGB unconditional model named in the request', async () => {
    const json = await postSamples(url, { model: 'rgb', perClass: 3, steps: 2, seed: 1, format: 'json' });
    expect(json.status, json.bytes.toString()).toBe(200);
    expect(json.json()).toMatchObject({ model: 'rgb', shape: [3, 4, 4, 3], classes: [0], perClass: 3 });
    const samples = json.json()['samples'] as number[][];
    expect(samples.map((sample) => sample.length)).toEqual([48, 48, 48]);
    const png = PNG.sync.read((await postSamples(url, { model: 'rgb', perClass: 3, steps: 2, seed: 1 })).bytes);
    expect([png.width, png.height]).toEqual([2 + 3 * 6, 2 + 6]);
    // the first cell's first pixel, channel by channel, is the first sample's first three values
    const expected = [0, 1, 2].map((channel) => Math.round((((samples[0]?.[channel] as number) + 1) / 2) * 255));
    expect(Array.from(png.data.subarray((2 * png.width + 2) * 4, (2 * png.width + 2) * 4 + 3))).toEqual(expected);
    const refused = await postSamples(url, { model: 'rgb', classes: [1] });
    expect([refused.status, refused.json()['field']]).toEqual([400, 'classes']);
  });

  it('answers JSON samples with their metadata; the same seed gives the same samples', async () => {
    const body = { classes: [7, 2], perClass: 2, steps: 2, sampler: 'ddpm', seed: 9, format: 'json' };
    const response = await postSamples(url, body);
    expect(response.status).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({
      model: 'tiny',
      shape: [4, 8, 8, 1],
      labels: [7, 7, 2, 2],
      sampler: 'ddpm',
      steps: 2,
      guidance: 'none',
      scale: 0,
      seed: 9,
      backend: 'cpu',
      worker: null,
    });
    const samples = result['samples'] as number[][];
    expect(samples.every((sample) => sample.length === 64 && sample.every((value) => value >= -1 && value <= 1))).toBe(true);
    expect((await postSamples(url, body)).json()['samples']).toEqual(samples);
  });

  it('batches concurrent requests into one network call per step; each gets what it gets alone', async () => {
    const body = (classes: number[], seed: number) => ({ classes, seed, steps: 3, sampler: 'ddim', eta: 1, format: 'json' });
    const alone = (await postSamples(url, body([4, 5], 21))).json();
    const callsBefore = scheduler.status().networkCalls;
    const responses = await Promise.all([body([1], 1), body([4, 5], 21), body([2], 2), body([3, 3], 3)].map((request) => postSamples(url, request)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    const results = responses.map((response) => response.json());
    expect(results.map((result) => (result['batch'] as { requests: number }).requests)).toEqual([4, 4, 4, 4]);
    expect(scheduler.status().networkCalls - callsBefore).toBe(3);
    expect(results[1]?.['samples']).toEqual(alone['samples']);
  });

  const badRequests: [string, unknown, string, RegExp][] = [
    ['an unknown field', { classes: [1], colour: 'red' }, 'colour', /unknown field/],
    ['classes of the wrong type', { classes: '1,2' }, 'classes', /array/],
    ['empty classes', { classes: [] }, 'classes', /fewer than 1/],
    ['a class out of range', { classes: [1, 10] }, 'classes', /entry 1 .*<= 9/],
    ['a fractional class', { classes: [1.5] }, 'classes', /integer/],
    ['too many classes', { classes: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 'classes', /more than 8/],
    ['too many images', { classes: [1, 2], perClass: 5 }, 'perClass', /10 images, more than the 8/],
    ['perClass 0', { perClass: 0, classes: [1] }, 'perClass', />= 1/],
    ['an unknown model', { model: 'sd' }, 'model', /tiny, rgb/],
    ['an unknown sampler', { sampler: 'plms' }, 'sampler', /ddim, ddpm/],
    ['steps > T', { steps: 101 }, 'steps', /<= 100/],
    ['steps as a string (no coercion)', { steps: '5' }, 'steps', /integer/],
    ['eta out of range', { eta: 2 }, 'eta', /<= 1/],
    ['eta for ddpm', { sampler: 'ddpm', eta: 0.5 }, 'eta', /not to sampler ddpm/],
    ['karras for ddim', { karras: true }, 'karras', /not to sampler ddim/],
    ['karras of the wrong type', { sampler: 'euler', karras: 'yes' }, 'karras', /boolean/],
    ['classifier guidance without a classifier', { guidance: 'classifier' }, 'guidance', /not available/],
    ['a scale without guidance', { scale: 2 }, 'scale', /needs guidance/],
    ['a negative seed', { seed: -1 }, 'seed', />= 0/],
    ['an unknown format', { format: 'gif' }, 'format', /png, json/],
    ['a body that is an array', [1, 2], 'body', /JSON object/],
    // the default classes (all 10) exceed --max-batch 8: the client sent no field to blame
    ['{} on a server whose max batch is below the class count', {}, 'body', /default is every class of model tiny.*send classes/],
  ];
  for (const [what, body, field, message] of badRequests) {
    it(`answers 400 naming the field for ${what}`, async () => {
      const response = await postSamples(url, body);
      expect(response.status, response.bytes.toString()).toBe(400);
      const error = response.json();
      expect(error['field']).toBe(field);
      expect(error['error']).toMatch(new RegExp(`^${field}: `));
      expect(error['error']).toMatch(message);
    });
  }

  it('answers 400 for malformed JSON, 415 for another content type, 413 for a large body', async () => {
    const malformed = await postSamples(url, undefined, { raw: '{"classes": [1,' });
    expect([malformed.status, malformed.json()['field']]).toEqual([400, 'body']);
    expect(malformed.json()['error']).toMatch(/malformed JSON/);
    const text = await postSamples(url, undefined, { raw: 'classes=1', headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.json()['field']]).toEqual([415, 'content-type']);
    const large = await postSamples(url, { classes: [1], padding: 'x'.repeat(5000) });
    expect(large.status).toBe(413);
    expect(large.json()['error']).toMatch(/2048 bytes/);
  });

  it('answers 413 as soon as Content-Length exceeds the limit, before any body byte is sent', async () => {
    const { hostname, port } = new URL(url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST /v1/samples HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1.1 413/);
  });

  it('answers 404 for an unknown route and 405 for a wrong method', async () => {
    const missing = await fetch(`${url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/\/v1\/nothing/);
    const wrongMethod = await fetch(`${url}/v1/samples`);
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await fetch(`${url}/healthz`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('jobs, health, metrics, OpenAPI', () => {
  it('runs an async job: POST /v1/jobs gives an id, GET /v1/jobs/:id its state and result', async () => {
    const created = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ classes: [3], steps: 2, seed: 11 }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    let job: Record<string, unknown> = {};
    await waitFor(() => job['state'] === 'completed', 20_000).catch(() => undefined);
    for (let attempt = 0; attempt < 200 && job['state'] !== 'completed'; attempt += 1) {
      job = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as Record<string, unknown>;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(job).toMatchObject({ id, state: 'completed', progress: { step: 2, totalSteps: 2 }, attempts: 1 });
    const direct = (await postSamples(url, { classes: [3], steps: 2, seed: 11, format: 'json' })).json();
    expect((job['result'] as Record<string, unknown>)['samples']).toEqual(direct['samples']);
    expect((await fetch(`${url}/v1/jobs/no-such-job`)).status).toBe(404);
  });

  it('reports health, Prometheus metrics and an OpenAPI document describing POST /v1/samples', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      mode: 'in-process',
      backend: 'cpu',
      models: [
        { name: 'tiny', numClasses: 10, timesteps: 100, shape: [8, 8, 1], cfg: true, classifier: false },
        { name: 'rgb', numClasses: null, shape: [4, 4, 3] },
      ],
      maxBatch: 8,
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^tfjs_diffusion_queue_depth\{state="waiting"\} 0$/m);
    expect(metrics).toMatch(/^tfjs_diffusion_batch_size_count [1-9]/m);
    expect(metrics).toMatch(/^tfjs_diffusion_step_seconds_bucket/m);
    expect(metrics).toMatch(/^tfjs_diffusion_request_seconds_bucket\{le="[0-9.]+",mode="in-process",status="200"\}/m);
    expect(metrics).toMatch(/^tfjs_diffusion_errors_total\{kind="validation"\} [1-9]/m);
    expect(metrics).toMatch(/^tfjs_diffusion_samples_total [1-9]/m);
    const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>>;
    };
    const post = openapi.paths['/v1/samples']?.['post'];
    expect(Object.keys(post?.requestBody?.content['application/json']?.schema.properties ?? {})).toEqual([
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
    ]);
    expect(openapi.paths['/v1/jobs/{id}']).toBeDefined();
    expect((await fetch(`${url}/docs`)).status).toBeLessThan(400);
  });

  it('says degraded when a model cannot sample (its start-up probe failed)', async () => {
    const broken = createServedModel({
      name: 'broken',
      source: 'memory',
      model: { ...createFakeModel(), predict: (input) => ({ prediction: tf.mul(input.x, Number.NaN) }) },
      schedule: testSchedule(),
      dataShape: [4, 4, 1],
    });
    const server = await start({ models: [fakeServed(), broken] });
    await server.scheduler.probe();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { status: string; details: { models: Record<string, { ok: boolean; error?: string }> } };
    expect(body.status).toBe('degraded');
    expect(body.details.models['fake']).toEqual({ ok: true });
    expect(body.details.models['broken']?.error).toMatch(/non-finite/);
    const answer = await postSamples(server.url, { model: 'broken', classes: [1], steps: 1 });
    expect(answer.status).toBe(500);
    expect(answer.json()['error']).toMatch(/non-finite/);
    await server.app.close();
  });
});

describe('queue limits, gone clients and shutdown over HTTP', () => {
  it('answers 429 with Retry-After from the queued steps; the waiting requests then go in one batch', async () => {
    const gate = createGate();
    const server = await start({
      models: [fakeServed()],
      maxBatch: 2,
      maxQueue: 2,
      onStep: gate.wait,
      initialStepSeconds: 0.25,
      batchWindowMilliseconds: 5,
    });
    const request = (label: number) => postSamples(server.url, { classes: [label], steps: 8, seed: label, format: 'json' });
    const first = request(1);
    await waitFor(() => server.scheduler.status().runningRequests === 1);
    const waiting = [request(2), request(3)];
    await waitFor(() => server.scheduler.status().queuedRequests === 2);
    const refused = await request(4);
    expect(refused.status).toBe(429);
    // 7 steps left in the running batch + 8 for the queued pair = 15 calls at 0.25 s
    expect(refused.headers.get('retry-after')).toBe('4');
    gate.open();
    const results = await Promise.all([first, ...waiting]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(results.map((result) => (result.json()['batch'] as { id: number }).id)).toEqual([1, 2, 2]);
    await server.app.close();
  });

  it('stops sampling a request whose client has gone', async () => {
    const gate = createGate();
    let steps = 0;
    const server = await start({
      models: [fakeServed()],
      onStep: async () => {
        steps += 1;
        await gate.wait();
      },
      batchWindowMilliseconds: 0,
    });
    const controller = new AbortController();
    const abandoned = fetch(`${server.url}/v1/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ classes: [1], steps: 40 }),
      signal: controller.signal,
    }).then(
      async (response) => `${response.status} ${await response.text()}`,
      () => 'aborted',
    );
    await waitFor(() => server.scheduler.status().runningRequests === 1);
    controller.abort();
    expect(await abandoned).toBe('aborted');
    // the server notices the closed connection (counted as client-gone) while the batch is held in its first step
    let metrics = '';
    for (let attempt = 0; attempt < 500 && !/kind="client-gone"/.test(metrics); attempt += 1)
      metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^tfjs_diffusion_errors_total\{kind="client-gone"\} 1$/m);
    // once released, the batch stops instead of running 39 more steps
    gate.open();
    await waitFor(() => server.scheduler.status().runningRequests === 0);
    expect(steps).toBe(1);
    await server.app.close();
  });

  it('on close, stops accepting, finishes the requests in flight, then closes', async () => {
    const gate = createGate();
    const server = await start({ models: [fakeServed()], onStep: gate.wait, batchWindowMilliseconds: 5 });
    const inFlight = postSamples(server.url, { classes: [1, 2], steps: 2, format: 'json' });
    await waitFor(() => server.scheduler.status().runningRequests === 1);
    let closed = false;
    const closing = server.app.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(closed).toBe(false);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    gate.open();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.json()['shape']).toEqual([2, 4, 4, 1]);
    await closing;
    expect(server.scheduler.status().closed).toBe(true);
  });
});
