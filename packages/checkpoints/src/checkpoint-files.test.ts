import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import {
  checkpointFileName,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpointFile,
  pruneCheckpoints,
  removeStaleTemporaryFiles,
  saveCheckpointFile,
} from './checkpoint-files.js';
import type { HostTensor } from './safetensors.js';

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-checkpoints-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const tensors = (value: number, size = 6): Map<string, HostTensor> =>
  new Map([
    ['conv.weight', { shape: [size / 2, 2], data: new Float32Array(size).fill(value) }],
    ['conv.bias', { shape: [2], data: new Float32Array([value, -value]) }],
  ]);

async function expectCheckpointError(promise: Promise<unknown>, code: string, fragment: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DiffusionError);
  expect((error as DiffusionError).code).toBe(code);
  expect((error as DiffusionError).message).toContain(fragment);
}

describe('checkpoint files', () => {
  it('saves and loads a checkpoint, creating the directory', async () => {
    const path = join(directory, 'nested', checkpointFileName(12));
    expect(checkpointFileName(12)).toBe('step-000012.safetensors');
    await saveCheckpointFile(path, tensors(1.5), { dtype: 'F32', metadata: { step: '12' } });
    const loaded = await loadCheckpointFile(path);
    expect(loaded.metadata).toEqual({ step: '12' });
    expect(loaded.tensors.get('conv.bias')?.data).toEqual(new Float32Array([1.5, -1.5]));
    expect(await readdir(join(directory, 'nested'))).toEqual(['step-000012.safetensors']);
  });

  it('names the path when the file is missing, a directory, or corrupt', async () => {
    const missing = join(directory, 'missing.safetensors');
    await expectCheckpointError(loadCheckpointFile(missing), 'invalid-checkpoint', `checkpoint file ${missing} does not exist`);
    await expectCheckpointError(loadCheckpointFile(directory), 'invalid-checkpoint', 'is a directory');
    const corrupt = join(directory, 'corrupt.safetensors');
    await writeFile(corrupt, new Uint8Array([1, 2, 3]));
    await expectCheckpointError(loadCheckpointFile(corrupt), 'invalid-checkpoint', `${corrupt}: file is 3 bytes`);
  });

  it('lists, finds the latest and prunes step-NNNNNN files, ignoring everything else', async () => {
    const runs = join(directory, 'runs');
    expect(await listCheckpoints(join(directory, 'absent'))).toEqual([]);
    for (const step of [300, 5, 1200, 40]) await saveCheckpointFile(join(runs, checkpointFileName(step)), tensors(step), { dtype: 'F16' });
    await writeFile(join(runs, 'notes.txt'), 'x');
    await writeFile(join(runs, 'step-12.safetensors.bak'), 'x');
    await writeFile(join(runs, '.step-000099.safetensors.1.0123456789ab.tmp'), 'x');
    expect((await listCheckpoints(runs)).map((entry) => entry.step)).toEqual([5, 40, 300, 1200]);
    expect((await latestCheckpoint(runs))?.fileName).toBe('step-001200.safetensors');
    const deleted = await pruneCheckpoints(runs, 2);
    expect(deleted).toEqual([join(runs, 'step-000005.safetensors'), join(runs, 'step-000040.safetensors')]);
    expect((await listCheckpoints(runs)).map((entry) => entry.step)).toEqual([300, 1200]);
    expect(await pruneCheckpoints(runs, 5)).toEqual([]);
    await expect(pruneCheckpoints(runs, -1)).rejects.toThrow(/keep must be a non-negative integer/);
    expect(await latestCheckpoint(join(directory, 'absent'))).toBeNull();
  });

  it('a save that fails before the rename leaves the previous checkpoint and no temporary file', async () => {
    const path = join(directory, 'atomic', checkpointFileName(1));
    await saveCheckpointFile(path, tensors(1), { dtype: 'F32' });
    let seen = '';
    await expect(
      saveCheckpointFile(path, tensors(2), {
        dtype: 'F32',
        onBeforeRename: (temporaryPath) => {
          seen = temporaryPath;
          throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(dirname(seen)).toBe(dirname(resolve(path)));
    expect((await loadCheckpointFile(path)).tensors.get('conv.bias')?.data).toEqual(new Float32Array([1, -1]));
    expect(await readdir(dirname(path))).toEqual([checkpointFileName(1)]);
  });

  it('concurrent saves to one path leave one complete checkpoint', async () => {
    const path = join(directory, 'concurrent', checkpointFileName(3));
    await Promise.all([1, 2, 3, 4].map((value) => saveCheckpointFile(path, tensors(value, 2000), { dtype: 'F32' })));
    const bias = (await loadCheckpointFile(path)).tensors.get('conv.bias')?.data;
    expect([1, 2, 3, 4]).toContain(bias?.[0]);
    expect(await readdir(dirname(path))).toEqual([checkpointFileName(3)]);
  });
});

describe('a process killed with SIGKILL mid-save', () => {
  let bundle = '';
  let child = '';
  beforeAll(async () => {
    // The child runs this package's Node entry bundled from source with esbuild (a dependency of vite),
    // so the test needs no prior build of this package or of core.
    const vitePackage = createRequire(import.meta.url).resolve('vite/package.json');
    const esbuild = createRequire(vitePackage)('esbuild') as { build(options: Record<string, unknown>): Promise<unknown> };
    bundle = join(directory, 'checkpoints-node.mjs');
    await esbuild.build({
      entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'node.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@tfjs-diffusion/source'],
      outfile: bundle,
      logLevel: 'silent',
    });
    child = join(directory, 'crash-saver.mjs');
    await writeFile(
      child,
      `const { saveCheckpointFile } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const [mode, path] = process.argv.slice(2);
const tensors = (value) => new Map([['big', { shape: [4, 1 << 20], data: new Float32Array(4 << 20).fill(value) }]]);
if (mode === 'pause') {
  setInterval(() => {}, 1000);
  await saveCheckpointFile(path, tensors(2), { dtype: 'F32', onBeforeRename: (temporaryPath) => {
    process.stdout.write('READY ' + temporaryPath + '\\n');
    return new Promise(() => {});
  } });
} else {
  for (let round = 0; ; round += 1) {
    await saveCheckpointFile(path, tensors(round % 2 === 0 ? 3 : 4), { dtype: 'F32', metadata: { round: String(round) } });
    process.stdout.write('SAVED ' + round + '\\n');
  }
}
`,
    );
  });

  /** Runs the child until it is SIGKILLed: `killWhen` sees each stdout line, `killOnTemporaryFile` each new file in `watch`. */
  const runChild = (
    mode: string,
    path: string,
    killWhen: (line: string) => number | null,
    killOnTemporaryFile?: { directory: string; delay: number },
  ): Promise<string[]> =>
    new Promise((resolvePromise, reject) => {
      const process = spawn(globalThis.process.execPath, [child, mode, path], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines: string[] = [];
      let stderr = '';
      let buffered = '';
      const kill = (delay: number): void => void setTimeout(() => process.kill('SIGKILL'), delay);
      const timer = setTimeout(() => process.kill('SIGKILL'), 30_000);
      const watcher = killOnTemporaryFile
        ? watch(killOnTemporaryFile.directory, (_event, name) => {
            if (name?.endsWith('.tmp')) kill(killOnTemporaryFile.delay);
          })
        : null;
      process.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          lines.push(line);
          const delay = killWhen(line);
          if (delay !== null) kill(delay);
          newline = buffered.indexOf('\n');
        }
      });
      process.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      process.on('error', reject);
      process.on('exit', (_code, signal) => {
        clearTimeout(timer);
        watcher?.close();
        if (signal !== 'SIGKILL') reject(new Error(`child exited without SIGKILL: ${stderr}`));
        else resolvePromise(lines);
      });
    });

  it('killed after writing the temporary file, before the rename: the previous checkpoint loads', async () => {
    const runs = join(directory, 'killed');
    const path = join(runs, checkpointFileName(7));
    await saveCheckpointFile(path, tensors(1), { dtype: 'F32', metadata: { step: '7' } });
    const lines = await runChild('pause', path, (line) => (line.startsWith('READY') ? 0 : null));
    const temporaryPath = lines[0]?.slice('READY '.length) ?? '';
    expect(dirname(temporaryPath)).toBe(resolve(runs));
    expect((await readdir(runs)).sort()).toEqual([basename(temporaryPath), checkpointFileName(7)].sort());
    const loaded = await loadCheckpointFile(path);
    expect(loaded.metadata).toEqual({ step: '7' });
    expect(loaded.tensors.get('conv.bias')?.data).toEqual(new Float32Array([1, -1]));
    // The orphaned temporary file is never taken for a checkpoint, and can be cleaned up.
    expect((await listCheckpoints(runs)).map((entry) => entry.fileName)).toEqual([checkpointFileName(7)]);
    expect(await removeStaleTemporaryFiles(runs)).toEqual([temporaryPath]);
    expect(await readdir(runs)).toEqual([checkpointFileName(7)]);
  });

  it('killed at arbitrary moments of repeated 16 MB saves: the file is always a complete checkpoint', async () => {
    const runs = join(directory, 'killed-loop');
    const path = join(runs, checkpointFileName(8));
    await saveCheckpointFile(path, tensors(1), { dtype: 'F32', metadata: { round: '-1' } });
    let orphans = 0;
    // Kills timed from a completed save, and kills fired as soon as a temporary file appears (mid-write).
    const plans: [number, { directory: string; delay: number } | undefined][] = [
      [3, undefined],
      [17, undefined],
      [-1, { directory: runs, delay: 0 }],
      [-1, { directory: runs, delay: 4 }],
    ];
    for (const [attempt, [afterSave, onTemporary]] of plans.entries()) {
      await runChild('loop', path, (line) => (afterSave >= 0 && line === `SAVED ${attempt % 2}` ? afterSave : null), onTemporary);
      const loaded = await loadCheckpointFile(path);
      const round = Number(loaded.metadata['round']);
      if (round >= 0) {
        const data = loaded.tensors.get('big')!.data;
        expect(data.length).toBe(4 << 20);
        const value = round % 2 === 0 ? 3 : 4;
        expect(data[0]).toBe(value);
        expect(data[data.length - 1]).toBe(value);
      } else {
        expect(loaded.tensors.get('conv.bias')?.data).toEqual(new Float32Array([1, -1]));
      }
      expect((await listCheckpoints(runs)).map((entry) => entry.fileName)).toEqual([checkpointFileName(8)]);
      orphans += (await removeStaleTemporaryFiles(runs)).length;
    }
    expect(orphans).toBeGreaterThanOrEqual(1); // at least the kills on a fresh temporary file landed mid-save
    expect(await readdir(runs)).toEqual([checkpointFileName(8)]);
  });
});
