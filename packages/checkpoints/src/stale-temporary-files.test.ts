import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTemporaryFiles } from './checkpoint-files.js';

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tfjs-diffusion-stale-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('removeStaleTemporaryFiles', () => {
  it('removes files of dead pids and files older than the process holding their pid, never a save in progress', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const dead = join(directory, `.step-000004.safetensors.${deadPid}.0123456789ab.tmp`);
    // this process's pid, written before it started: a previous process with the same pid (containers reuse pids)
    const reused = join(directory, `.step-000006.safetensors.${process.pid}.00000000000a.tmp`);
    // this process's pid, written now: a save in progress
    const live = join(directory, `.step-000008.safetensors.${process.pid}.00000000000b.tmp`);
    // pid 1 is alive and started long before this file
    const ownedByInit = join(directory, `.step-000010.safetensors.1.00000000000c.tmp`);
    for (const path of [dead, reused, live, ownedByInit]) await writeFile(path, 'partial');
    const past = new Date(performance.timeOrigin - 60_000);
    await utimes(reused, past, past);
    await writeFile(join(directory, 'step-000002.safetensors'), 'not a temporary file');
    const removed = await removeStaleTemporaryFiles(directory);
    expect(removed.sort()).toEqual([dead, reused].sort());
    expect((await readdir(directory)).sort()).toEqual(
      ['step-000002.safetensors', `.step-000008.safetensors.${process.pid}.00000000000b.tmp`, '.step-000010.safetensors.1.00000000000c.tmp'].sort(),
    );
  });
});
