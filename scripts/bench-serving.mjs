#!/usr/bin/env node
// Load figures for docs/serving.md (a benchmark, never a test): the API in process, then with
// --queue and 1 or 2 workers, driven by autocannon with a fixed number of requests per run.
// Reports throughput, p50/p99 latency, non-2xx answers (nothing lost = 0) and, at one connection,
// the latency the queue adds per request. Needs redis-server and built apps (pnpm build).
// usage: node scripts/bench-serving.mjs [--requests N] [--connections C] [--steps S]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../apps/server/package.json', import.meta.url));
const autocannon = require('autocannon');
const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: { requests: { type: 'string' }, connections: { type: 'string' }, steps: { type: 'string' } } });
const requests = Number(values.requests ?? 48);
const connections = Number(values.connections ?? 8);
const steps = Number(values.steps ?? 10);
const model = 'mnist=models/mnist-unet.safetensors';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
function start(args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c) => (text += c));
  child.stderr.on('data', (c) => (text += c));
  return {
    child,
    wait: async (pattern) => {
      for (;;) {
        const m = text.match(pattern);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(text);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
async function api(extra) {
  const server = start([
    'apps/server/dist/main.js',
    '--port',
    '0',
    '--model',
    model,
    '--classifier',
    'none',
    '--backend',
    'wasm',
    '--max-batch',
    '16',
    ...extra,
  ]);
  server.url = (await server.wait(/"url":"(http:\/\/[^"]+)"/))[1];
  return server;
}
async function load(url, connectionCount, count) {
  let seed = 0;
  const result = await autocannon({
    url: `${url}/v1/samples`,
    connections: connectionCount,
    amount: count,
    timeout: 300,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ classes: [seed % 10], steps, seed: seed++, format: 'json' }) }),
      },
    ],
  });
  return {
    requestsPerSecond: +(result.requests.total / result.duration).toFixed(2),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: +result.latency.mean.toFixed(1),
    ok: result['2xx'],
    notOk: result.non2xx + result.errors + result.timeouts,
  };
}

const rows = [];
const inProcess = await api([]);
await load(inProcess.url, 1, 2); // warm-up
rows.push({ setup: 'in process', connections, ...(await load(inProcess.url, connections, requests)) });
const single = await load(inProcess.url, 1, 8);
inProcess.child.kill('SIGTERM');

const redisPort = await freePort();
execFileSync('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--daemonize', 'yes']);
const queue = `redis://127.0.0.1:${redisPort}`;
const queued = await api(['--queue', queue]);
const workers = [];
let queuedSingle;
for (const count of [1, 2]) {
  while (workers.length < count) {
    const worker = start([
      'apps/cli/dist/main.js',
      'worker',
      '--queue',
      queue,
      '--model',
      model,
      '--classifier',
      'none',
      '--backend',
      'wasm',
      '--max-batch',
      '16',
      '--log-level',
      'warn',
    ]);
    workers.push(worker);
  }
  for (;;) {
    const health = await (await fetch(`${queued.url}/healthz`)).json();
    if (health.details?.models?.mnist?.workers === count) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await load(queued.url, 1, 2);
  rows.push({ setup: `queue, ${count} worker${count > 1 ? 's' : ''}`, connections, ...(await load(queued.url, connections, requests)) });
  if (count === 1) queuedSingle = await load(queued.url, 1, 8);
}
for (const worker of workers) worker.child.kill('SIGTERM');
queued.child.kill('SIGTERM');
spawnSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave']);
console.table(rows);
console.log(
  `one connection, ${steps} steps, 1 image: in process mean ${single.mean} ms, queued (1 worker) mean ${queuedSingle.mean} ms: the queue adds ${(queuedSingle.mean - single.mean).toFixed(1)} ms per request`,
);
console.log(JSON.stringify({ requests, connections, steps, rows, single, queuedSingle }));
