import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchScheduler, type BatchScheduler, type BatchSchedulerOptions } from './batch-scheduler.js';
import { RequestError } from './request-error.js';
import { parseSampleRequest } from './sample-request.js';
import { createServedModel, type ServedModel } from './served-model.js';
import { createFakeModel, createGate, createTinyUNet, testSchedule, useCpuBackend, waitFor } from './test-utils/test-models.js';

beforeAll(useCpuBackend);

function fakeServed(name = 'fake', model = createFakeModel()): ServedModel {
  return createServedModel({ name, source: 'memory', model, schedule: testSchedule(), dataShape: [4, 4, 1] });
}

function fakeService(options: Partial<BatchSchedulerOptions> = {}): BatchScheduler {
  return createBatchScheduler({ models: [fakeServed()], batchWindowMilliseconds: 5, ...options });
}

function submit(service: BatchScheduler, body: Record<string, unknown>, signal?: AbortSignal) {
  return service.submit(parseSampleRequest({ steps: 3, seed: 1, ...body }, service.limits), signal ? { signal } : {});
}

describe('createBatchScheduler', () => {
  it('batches requests that arrive together into one network call per step and splits the results', async () => {
    const service = fakeService();
    const results = await Promise.all([
      submit(service, { classes: [1], seed: 1 }),
      submit(service, { classes: [2, 3], seed: 2 }),
      submit(service, { classes: [4], perClass: 3, seed: 3 }),
    ]);
    expect(service.status()).toMatchObject({ batches: 1, networkCalls: 3, queuedRequests: 0, runningRequests: 0 });
    expect(results.map((result) => result.batch)).toEqual([1, 2, 3].map(() => ({ id: 1, requests: 3, samples: 6 })));
    expect(results.map((result) => Array.from(result.labels))).toEqual([[1], [2, 3], [4, 4, 4]]);
    expect(results.map((result) => result.shape)).toEqual([
      [1, 4, 4, 1],
      [2, 4, 4, 1],
      [3, 4, 4, 1],
    ]);
    expect(results[1]?.samples.length).toBe(2 * 16);
    await service.close();
  });

  it('gives a request the same samples alone and batched (its own x_T and per-step noise), with no tensor left behind', async () => {
    const model = createTinyUNet();
    const service = createBatchScheduler({
      models: [createServedModel({ name: 'tiny', source: 'memory', model, schedule: testSchedule(), dataShape: [8, 8, 1] })],
      batchWindowMilliseconds: 5,
    });
    const before = tf.memory().numTensors;
    for (const settings of [{ sampler: 'ddpm' }, { sampler: 'ddim', eta: 1 }, { sampler: 'euler-ancestral' }, { guidance: 'cfg', scale: 2 }]) {
      const alone = await submit(service, { classes: [5, 6], seed: 42, ...settings });
      const batched = await Promise.all([
        submit(service, { classes: [1], seed: 7, ...settings }),
        submit(service, { classes: [5, 6], seed: 42, ...settings }),
        submit(service, { classes: [9], seed: 8, ...settings }),
      ]);
      expect(batched[1]?.batch.requests, JSON.stringify(settings)).toBe(3);
      expect(Array.from(batched[1]?.samples ?? []), JSON.stringify(settings)).toEqual(Array.from(alone.samples));
      // the neighbours' own seeds give different samples
      expect(Array.from(batched[0]?.samples ?? [])).not.toEqual(Array.from(batched[2]?.samples ?? []));
      expect(alone.samples.every((value) => value >= -1 && value <= 1)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    await service.close();
    model.dispose();
  });

  it('keeps incompatible requests apart and never exceeds maxBatch samples', async () => {
    const service = fakeService({ maxBatch: 4 });
    const results = await Promise.all([
      submit(service, { classes: [1, 2, 3] }),
      submit(service, { classes: [1], steps: 2 }),
      submit(service, { classes: [1, 2] }),
      submit(service, { classes: [5] }),
      submit(service, { classes: [6], steps: 2 }),
    ]);
    const batchOf = results.map((result) => result.batch.id);
    // batch 1: the 3-sample request and the 1-sample one with the same settings; then steps 2; then the 2-sample one
    expect(batchOf[0]).toBe(batchOf[3]);
    expect(batchOf[1]).toBe(batchOf[4]);
    expect(new Set(batchOf).size).toBe(3);
    expect(Math.max(...results.map((result) => result.batch.samples))).toBeLessThanOrEqual(4);
    await service.close();
  });

  it('while a batch runs, the requests that arrive wait and go together; past maxQueue it answers 429 with Retry-After', async () => {
    const gate = createGate();
    const service = fakeService({ maxBatch: 2, maxQueue: 2, onStep: gate.wait });
    const first = submit(service, { classes: [1] });
    await waitFor(() => service.status().runningRequests === 1);
    const second = submit(service, { classes: [2] });
    const third = submit(service, { classes: [3] });
    expect(service.status()).toMatchObject({ queuedRequests: 2, queuedSamples: 2 });
    const error = await submit(service, { classes: [4] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).status).toBe(429);
    expect(Number((error as RequestError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    gate.open();
    const results = await Promise.all([first, second, third]);
    expect(results.map((result) => result.batch.id)).toEqual([1, 2, 2]);
    await service.close();
  });

  it('close() finishes queued and running requests, then refuses new ones with 503', async () => {
    const gate = createGate();
    const service = fakeService({ onStep: gate.wait });
    const running = submit(service, { classes: [1] });
    await waitFor(() => service.status().runningRequests === 1);
    const queued = submit(service, { classes: [2], steps: 2 });
    let closed = false;
    const closing = service.close().then(() => {
      closed = true;
    });
    const refused = await submit(service, { classes: [3] }).catch((caught: unknown) => caught);
    expect((refused as RequestError).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    gate.open();
    const results = await Promise.all([running, queued]);
    await closing;
    expect(results.map((result) => result.batch.id)).toEqual([1, 2]);
    expect(service.status()).toMatchObject({ closed: true, queuedRequests: 0, runningRequests: 0 });
  });

  it('rejects every request of a batch whose sampling fails', async () => {
    const broken = {
      ...createFakeModel(),
      predict: () => {
        throw new Error('the network broke');
      },
    };
    const service = createBatchScheduler({ models: [fakeServed('fake', broken)] });
    await expect(submit(service, { classes: [1] })).rejects.toThrow('the network broke');
    expect(service.modelHealth()['fake']).toEqual({ ok: false, error: 'the network broke' });
    await service.close();
  });

  it('drops a queued request whose client has gone, and stops a batch whose every client has gone', async () => {
    const gate = createGate();
    let steps = 0;
    const service = fakeService({
      maxBatch: 2,
      onStep: async () => {
        steps += 1;
        await gate.wait();
      },
    });
    const first = new AbortController();
    const running = submit(service, { classes: [1], steps: 50 }, first.signal);
    await waitFor(() => service.status().runningRequests === 1);
    const second = new AbortController();
    const queued = submit(service, { classes: [2], steps: 2 }, second.signal);
    const kept = submit(service, { classes: [3], steps: 2 });
    expect(service.status().queuedRequests).toBe(2);
    second.abort();
    await expect(queued).rejects.toMatchObject({ status: 499, kind: 'client-gone' });
    expect(service.status().queuedRequests).toBe(1);
    first.abort();
    await expect(running).rejects.toMatchObject({ status: 499 });
    gate.open();
    const result = await kept;
    // the abandoned 50-step batch stopped after its first step; the kept request ran its own 2
    expect(steps).toBe(1 + 2);
    expect(result.batch).toMatchObject({ id: 2, requests: 1 });
    await service.close();
  });

  it('computes Retry-After from the queued steps and the median time per step, not from one long request', async () => {
    const gate = createGate();
    const service = fakeService({ maxBatch: 2, maxQueue: 4, onStep: gate.wait, initialStepSeconds: 0.5 });
    const first = submit(service, { classes: [1], steps: 4 });
    await waitFor(() => service.status().runningRequests === 1);
    // queued: two 10-step requests that fit one batch, one 6-step request apart: 10 + 6 network calls
    const queued = [
      submit(service, { classes: [1], steps: 10 }),
      submit(service, { classes: [2], steps: 10 }),
      submit(service, { classes: [3], steps: 6 }),
    ];
    // the running batch is held after its first step, 3 of 4 left: 3 + 16 = 19 calls at 0.5 s = 9.5 s
    expect(service.status().queuedSteps).toBe(19);
    const refused = await submit(service, { classes: [4], perClass: 2 }).catch((caught: unknown) => caught);
    expect((refused as RequestError).status).toBe(429);
    expect((refused as RequestError).headers['Retry-After']).toBe('10');
    gate.open();
    await Promise.all([first, ...queued]);
    await service.close();
  });
});
