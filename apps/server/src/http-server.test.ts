import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './http-server.js';
import { createSampleService, type SampleService, type SampleServiceOptions } from './sample-service.js';
import { postSamples } from './test-utils/http-client.js';
import { createFakeModel, createGate, createTinyUNet, testSchedule, useCpuBackend, waitFor } from './test-utils/test-models.js';

const model = createTinyUNet();
let service: SampleService;
let server: RunningServer;

beforeAll(async () => {
  await useCpuBackend();
  service = createSampleService({ model, schedule: testSchedule(), dataShape: [8, 8, 1], maxBatch: 8, maxQueue: 16, batchWindowMilliseconds: 50 });
  server = await startServer({ service, port: 0, backend: tf.getBackend(), modelPath: 'tiny-unet', maxBodyBytes: 2048, log: () => {} });
});

afterAll(async () => {
  await server.close();
  model.dispose();
});

/** A server over a fake model whose batches wait at `gate` between steps. */
async function gatedServer(options: Partial<SampleServiceOptions>) {
  const gated = createSampleService({ model: createFakeModel(), schedule: testSchedule(), dataShape: [4, 4, 1], batchWindowMilliseconds: 5, ...options });
  return { service: gated, server: await startServer({ service: gated, port: 0, log: () => {} }) };
}

describe('POST /v1/samples', () => {
  it('answers a PNG grid: one row per class, perClass columns, 2 px black padding, non-blank cells', async () => {
    const response = await postSamples(server.url, { classes: [3, 1, 4], perClass: 2, steps: 3, seed: 5 });
    expect(response.status, response.bytes.toString()).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-seed')).toBe('5');
    const png = PNG.sync.read(response.bytes);
    expect([png.width, png.height]).toEqual([2 + 2 * (8 + 2), 2 + 3 * (8 + 2)]);
    const grey = (x: number, y: number) => png.data[(y * png.width + x) * 4] as number;
    for (let x = 0; x < png.width; x += 1) for (const y of [0, 1, 10, 11, png.height - 1]) expect(grey(x, y)).toBe(0);
    for (let y = 0; y < png.height; y += 1) for (const x of [0, 1, 10, 11, png.width - 1]) expect(grey(x, y)).toBe(0);
    const cell = new Set<number>();
    for (let y = 2; y < 10; y += 1) for (let x = 2; x < 10; x += 1) cell.add(grey(x, y));
    // not blank: bright and dark pixels in the cell
    expect(cell.size).toBeGreaterThan(1);
    expect(Math.max(...cell)).toBeGreaterThan(0);
  });

  it('answers JSON samples with their metadata; the same seed gives the same samples', async () => {
    const body = { classes: [7, 2], perClass: 2, steps: 2, sampler: 'ddpm', seed: 9, format: 'json' };
    const response = await postSamples(server.url, body);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const result = response.json();
    expect(result).toMatchObject({ shape: [4, 8, 8, 1], classes: [7, 2], perClass: 2, labels: [7, 7, 2, 2], sampler: 'ddpm', steps: 2, guidance: 'none', scale: 0, seed: 9, backend: 'cpu' });
    const samples = result['samples'] as number[][];
    expect(samples).toHaveLength(4);
    expect(samples.every((sample) => sample.length === 64 && sample.every((value) => value >= -1 && value <= 1))).toBe(true);
    expect((await postSamples(server.url, body)).json()['samples']).toEqual(samples);
    const defaults = (await postSamples(server.url, { classes: [0], steps: 2, format: 'json' })).json();
    expect(defaults).toMatchObject({ sampler: 'ddim', eta: 0, karras: false, perClass: 1 });
    expect(Number.isInteger(defaults['seed'])).toBe(true);
  });

  it('batches concurrent requests into one network call per step; each gets what it gets alone', async () => {
    const body = (classes: number[], seed: number) => ({ classes, seed, steps: 3, sampler: 'ddim', eta: 1, format: 'json' });
    const alone = (await postSamples(server.url, body([4, 5], 21))).json();
    const callsBefore = service.status().networkCalls;
    const responses = await Promise.all([body([1], 1), body([4, 5], 21), body([2], 2), body([3, 3], 3)].map((request) => postSamples(server.url, request)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    const results = responses.map((response) => response.json());
    expect(new Set(results.map((result) => JSON.stringify(result['batch'])))).toEqual(new Set([JSON.stringify({ id: (results[0]?.['batch'] as { id: number }).id, requests: 4, samples: 6 })]));
    expect(service.status().networkCalls - callsBefore).toBe(3);
    expect(results[1]?.['samples']).toEqual(alone['samples']);
  });

  const badRequests: [string, Record<string, unknown>, string, RegExp][] = [
    ['an unknown field', { classes: [1], colour: 'red' }, 'colour', /unknown field/],
    ['classes of the wrong type', { classes: '1,2' }, 'classes', /array/],
    ['empty classes', { classes: [] }, 'classes', /empty/],
    ['a class out of range', { classes: [1, 10] }, 'classes', /\[0, 9\]/],
    ['a fractional class', { classes: [1.5] }, 'classes', /integer/],
    ['too many classes', { classes: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 'classes', /too many/],
    ['too many samples', { classes: [1, 2], perClass: 5 }, 'perClass', /at most 8 samples/],
    ['perClass 0', { perClass: 0, classes: [1] }, 'perClass', /\[1, /],
    ['an unknown sampler', { sampler: 'plms' }, 'sampler', /unknown value "plms"/],
    ['steps > T', { steps: 101 }, 'steps', /T = 100/],
    ['steps of the wrong type', { steps: '5' }, 'steps', /integer/],
    ['fractional steps', { steps: 2.5 }, 'steps', /integer/],
    ['eta out of range', { eta: 2 }, 'eta', /\[0, 1\]/],
    ['eta for ddpm', { sampler: 'ddpm', eta: 0.5 }, 'eta', /not to sampler ddpm/],
    ['karras for ddim', { karras: true }, 'karras', /not to sampler ddim/],
    ['karras of the wrong type', { sampler: 'euler', karras: 'yes' }, 'karras', /true or false/],
    ['an unknown guidance', { guidance: 'magic' }, 'guidance', /none, cfg, classifier/],
    ['classifier guidance without a classifier', { guidance: 'classifier' }, 'guidance', /not available/],
    ['a negative scale', { guidance: 'cfg', scale: -1 }, 'scale', /\[0, 100\]/],
    ['a scale without guidance', { scale: 2 }, 'scale', /needs guidance/],
    ['a negative seed', { seed: -1 }, 'seed', /\[0, 4294967295\]/],
    ['a seed of the wrong type', { seed: 'abc' }, 'seed', /integer/],
    ['an unknown format', { format: 'gif' }, 'format', /png, json/],
  ];
  for (const [what, body, field, message] of badRequests) {
    it(`answers 400 naming the field for ${what}`, async () => {
      const response = await postSamples(server.url, body);
      expect(response.status).toBe(400);
      const error = response.json();
      expect(error['field']).toBe(field);
      expect(error['error']).toMatch(new RegExp(`^${field}: `));
      expect(error['error']).toMatch(message);
    });
  }

  it('answers 400 for a body that is not a JSON object, malformed JSON and a wrong content type; 413 for a large body', async () => {
    const array = await postSamples(server.url, [1, 2]);
    expect([array.status, array.json()['field']]).toEqual([400, 'body']);
    const malformed = await postSamples(server.url, undefined, { raw: '{"classes": [1,' });
    expect([malformed.status, malformed.json()['field']]).toEqual([400, 'body']);
    expect(malformed.json()['error']).toMatch(/malformed JSON/);
    const text = await postSamples(server.url, undefined, { raw: 'classes=1', headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.json()['field']]).toEqual([400, 'content-type']);
    const large = await postSamples(server.url, { classes: [1], padding: 'x'.repeat(5000) });
    expect(large.status).toBe(413);
    expect(large.json()['error']).toMatch(/2048 bytes/);
  });

  it('answers 404 for an unknown route and 405 for a wrong method', async () => {
    const missing = await fetch(`${server.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/\/v1\/nothing/);
    const wrongMethod = await fetch(`${server.url}/v1/samples`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await wrongMethod.arrayBuffer();
    expect((await fetch(`${server.url}/healthz`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('GET /healthz', () => {
  it('reports the backend, the model and the queue', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      backend: 'cpu',
      model: { loaded: true, path: 'tiny-unet', numClasses: 10, timesteps: 100 },
      classifier: { loaded: false },
      queueLength: 0,
      maxBatch: 8,
    });
  });
});

describe('queue limits and shutdown over HTTP', () => {
  it('answers 429 with Retry-After when the queue is full; the waiting requests then go in one batch', async () => {
    const gate = createGate();
    const gated = await gatedServer({ maxBatch: 2, maxQueue: 2, onStep: gate.wait });
    const request = (label: number) => postSamples(gated.server.url, { classes: [label], steps: 2, seed: label, format: 'json' });
    const first = request(1);
    await waitFor(() => gated.service.status().runningRequests === 1);
    const waiting = [request(2), request(3)];
    await waitFor(() => gated.service.status().queuedRequests === 2);
    const health = (await (await fetch(`${gated.server.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ queueLength: 2, queue: { requests: 2, samples: 2 }, running: { requests: 1 } });
    const refused = await request(4);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.json()['error']).toMatch(/queue is full/);
    gate.open();
    const results = await Promise.all([first, ...waiting]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(results.map((result) => (result.json()['batch'] as { id: number }).id)).toEqual([1, 2, 2]);
    await gated.server.close();
  });

  it('on close, stops accepting, finishes the requests in flight, then closes', async () => {
    const gate = createGate();
    const gated = await gatedServer({ onStep: gate.wait });
    const inFlight = postSamples(gated.server.url, { classes: [1, 2], steps: 2, format: 'json' });
    await waitFor(() => gated.service.status().runningRequests === 1);
    let closed = false;
    const closing = gated.server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(closed).toBe(false);
    await expect(fetch(`${gated.server.url}/healthz`)).rejects.toThrow();
    gate.open();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.json()['shape']).toEqual([2, 4, 4, 1]);
    await closing;
    expect(gated.service.status().closed).toBe(true);
  });
});
