import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, freePort, stopProcess } from './test-utils/processes.js';

// The first command of apps/server/README.md, exactly as written there (its comment dropped).
const readme = readFileSync(`${ROOT}apps/server/README.md`, 'utf8');
const command = (readme.match(/```sh\n([^\n#]+?)\s*(#[^\n]*)?\n/) as RegExpMatchArray)[1] as string;

describe("the README's server command", () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(async () => {
    await Promise.all(children.map((child) => stopProcess(child, 'SIGKILL')));
  });

  it(`'${command}' starts the API and /healthz says ok (pnpm server, without run, would not)`, async () => {
    expect(command).toBe('pnpm run serve');
    expect(readme).not.toMatch(/^pnpm server\b/m);
    await ensureBuilt();
    const port = await freePort();
    const child = spawn('sh', ['-c', command], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    let health: Response | undefined;
    while (health === undefined) {
      if (child.exitCode !== null) throw new Error(`'${command}' exited ${child.exitCode}:\n${output}`);
      if (Date.now() - started > 300_000) throw new Error(`no answer on port ${port}:\n${output}`);
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (health === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', mode: 'in-process', models: [{ name: 'mnist', numClasses: 10 }] });
    // SIGTERM to the whole group (sh, pnpm, node): everything exits
    process.kill(-(child.pid as number), 'SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  }, 600_000);
});
