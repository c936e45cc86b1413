import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSamples } from './test-utils/http-client.js';
import { ensureBuilt, hasRedisServer, spawnNode, startRedis, stopProcess, type Spawned } from './test-utils/processes.js';

const redisInstalled = hasRedisServer();
if (!redisInstalled)
  console.warn('distributed.test.ts skipped: redis-server is not installed (apt-get install redis-server, or bash scripts/setup.sh)');

const MODEL = 'mnist=models/mnist-unet.safetensors';

describe.skipIf(!redisInstalled)('distributed mode: one API with --queue, two workers, Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Spawned;
  let workers: Spawned[] = [];
  let url = '';

  const startWorker = (): Spawned =>
    spawnNode([
      'apps/cli/dist/main.js',
      'worker',
      '--queue',
      redis.url,
      '--model',
      MODEL,
      '--classifier',
      'none',
      '--backend',
      'wasm',
      '--max-batch',
      '8',
      '--concurrency',
      '4',
      '--batch-window-ms',
      '20',
      '--lock-duration-ms',
      '5000',
      '--stalled-interval-ms',
      '1000',
      '--log-level',
      'info',
    ]);

  beforeAll(async () => {
    await ensureBuilt();
    redis = await startRedis();
    workers = [startWorker(), startWorker()];
    api = spawnNode([
      'apps/server/dist/main.js',
      '--port',
      '0',
      '--queue',
      redis.url,
      '--model',
      MODEL,
      '--classifier',
      'none',
      '--backend',
      'wasm',
      '--max-batch',
      '8',
      '--job-timeout-ms',
      '60000',
    ]);
    url = (await api.waitFor(/"url":"(http:\/\/[^"]+)"/))[1] as string;
    await Promise.all(workers.map((worker) => worker.waitFor(/worker ready/)));
  }, 600_000);

  afterAll(async () => {
    await Promise.all([...workers, ...(api ? [api] : [])].map((spawned) => stopProcess(spawned.child, 'SIGKILL')));
    redis?.stop();
  });

  it('answers every request 200 with the same images when a worker is SIGKILLed mid-job; describes itself and reports the queue', async () => {
    const health = (await (await fetch(`${url}/healthz`)).json()) as {
      status: string;
      mode: string;
      details: { models: Record<string, { workers: number }> };
    };
    expect(health).toMatchObject({ status: 'ok', mode: 'queue' });
    expect(health.details.models['mnist']?.workers).toBe(2);

    // 12 concurrent clients; 8-step DDIM; each request has its own seed
    const bodies = Array.from({ length: 12 }, (_, index) => ({ classes: [index % 10], steps: 8, seed: 1000 + index, format: 'json' }));
    const undisturbed = await Promise.all(bodies.map((body) => postSamples(url, body)));
    expect(
      undisturbed.map((response) => response.status),
      undisturbed.map((response) => (response.status === 200 ? '' : response.bytes.toString())).join(' '),
    ).toEqual(bodies.map(() => 200));
    const reference = undisturbed.map((response) => response.json());
    expect(new Set(reference.map((result) => result['worker'])).size).toBe(2);

    // the same stream again; once both workers hold jobs (more than the 4 one worker takes), the first worker is killed
    const disturbed = Promise.all(bodies.map((body) => postSamples(url, body)));
    const active = (text: string): number => Number(text.match(/^tfjs_diffusion_queue_depth\{state="active"\} (\d+)$/m)?.[1] ?? 0);
    let metrics = '';
    for (let attempt = 0; attempt < 1000 && active(metrics) <= 4; attempt += 1) metrics = await (await fetch(`${url}/metrics`)).text();
    expect(active(metrics)).toBeGreaterThan(4);
    const killed = workers[0] as Spawned;
    expect(await stopProcess(killed.child, 'SIGKILL')).toBe('SIGKILL');
    const killedName = (killed.output().match(/"worker":"([^"]+)"/) as RegExpMatchArray)[1];
    const responses = await disturbed;
    expect(
      responses.map((response) => response.status),
      responses.map((response) => (response.status === 200 ? '' : response.bytes.toString())).join(' '),
    ).toEqual(bodies.map(() => 200));
    const results = responses.map((response) => response.json());
    results.forEach((result, index) => {
      expect(result['seed']).toBe(1000 + index);
      expect(result['samples'], `request ${index}`).toEqual(reference[index]?.['samples']);
    });
    // the killed worker's jobs were taken again by the other one: second attempts, none lost
    const retried = results.filter((result) => result['attempt'] === 2);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried.every((result) => result['worker'] !== killedName)).toBe(true);

    const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(openapi.paths['/v1/samples']?.['post']).toBeDefined();
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toMatch(/^tfjs_diffusion_queue_depth\{state="waiting"\} 0$/m);
    expect(after).toMatch(/^tfjs_diffusion_request_seconds_count\{mode="queue",status="200"\} 24$/m);
  });
});
