import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is apps/server/src/test-utils/). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Whether redis-server is installed (Debian: apt-get install redis-server; scripts/setup.sh does it). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A Redis of the test's own on a free port, without persistence; stop() shuts it down. */
export async function startRedis(): Promise<{ url: string; port: number; stop: () => void }> {
  const port = await freePort();
  execFileSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes'], {
    stdio: 'ignore',
  });
  const started = Date.now();
  while (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG') {
    if (Date.now() - started > 10_000) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => void spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' }),
  };
}

/**
 * The CLI and the server run from their dist/ (the worker must be a process of its own to be
 * SIGKILLed). `pnpm test` and CI build first; when dist/ is missing they are built here.
 */
export async function ensureBuilt(): Promise<void> {
  const missing = ['apps/cli/dist/main.js', 'apps/server/dist/main.js'].filter((path) => !existsSync(`${ROOT}${path}`));
  if (missing.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    const build = spawn(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--filter', '@tfjs-diffusion/cli', '--filter', '@tfjs-diffusion/server'],
      { cwd: ROOT, stdio: 'ignore' },
    );
    build.once('error', reject);
    build.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`building ${missing.join(', ')} failed (${code})`))));
  });
}

/** A child process whose output is collected; `waitFor` resolves with the first output line matching. */
export interface Spawned {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMilliseconds?: number): Promise<RegExpMatchArray>;
}

export function spawnNode(args: readonly string[], environment: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [...args], { cwd: ROOT, env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    child,
    output: () => text,
    async waitFor(pattern, timeoutMilliseconds = 60_000) {
      const started = Date.now();
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before printing ${pattern}:\n${text}`);
        if (Date.now() - started > timeoutMilliseconds) throw new Error(`no ${pattern} within ${timeoutMilliseconds} ms:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** Stops a child with `signal` and resolves with its exit code (or signal name). */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? (child.signalCode as string));
  return new Promise((resolve) => {
    child.once('exit', (code, exitSignal) => resolve(code ?? exitSignal ?? 'unknown'));
    child.kill(signal);
  });
}
