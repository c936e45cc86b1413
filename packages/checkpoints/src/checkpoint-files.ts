import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DiffusionError } from '@tfjs-diffusion/core';
import { parseSafetensors, serializeSafetensors, type HostTensor, type ParsedSafetensors, type SerializeOptions } from './safetensors.js';

/** Options of `saveCheckpointFile`: the serialisation options plus a crash-simulation hook. */
export interface SaveCheckpointOptions extends SerializeOptions {
  /**
   * Test hook, called after the temporary file is written and fsynced and before it is renamed over
   * the target; throwing (or never resolving) simulates a crash at the worst moment.
   */
  readonly onBeforeRename?: (temporaryPath: string) => void | Promise<void>;
}

/** A checkpoint file found by `listCheckpoints`. */
export interface CheckpointEntry {
  readonly step: number;
  readonly fileName: string;
  readonly path: string;
}

const CHECKPOINT_NAME = /^step-(\d+)\.safetensors$/;
const TEMPORARY_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** The conventional file name of the checkpoint at `step`: `step-000123.safetensors`. */
export function checkpointFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new DiffusionError('invalid-argument', `checkpointFileName: step must be a non-negative integer, got ${step}`);
  }
  return `step-${String(step).padStart(6, '0')}.safetensors`;
}

/**
 * Writes a safetensors checkpoint atomically: a uniquely named temporary file in the same directory
 * is written and fsynced, renamed over `path`, then the directory is fsynced; a crash at any point
 * leaves either the previous file or the new one, never a partial file, at `path`.
 */
export async function saveCheckpointFile(path: string, tensors: ReadonlyMap<string, HostTensor>, options: SaveCheckpointOptions): Promise<void> {
  await writeFileAtomically(path, serializeSafetensors(tensors, options), options.onBeforeRename);
}

/**
 * Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename, fsync of
 * the directory); `onBeforeRename` is the crash-simulation hook of `SaveCheckpointOptions`.
 */
export async function writeFileAtomically(
  path: string,
  bytes: Uint8Array,
  onBeforeRename?: (temporaryPath: string) => void | Promise<void>,
): Promise<void> {
  const target = resolve(path);
  const directory = dirname(target);
  const temporaryPath = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const wrap = (error: unknown): DiffusionError =>
    new DiffusionError('invalid-argument', `cannot save checkpoint to ${path}: ${(error as Error).message}`, { cause: error });

  // 1. Write and fsync the temporary file.
  try {
    await mkdir(directory, { recursive: true });
    const handle = await open(temporaryPath, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temporaryPath).catch(() => undefined);
    throw wrap(error);
  }
  // 2. Rename over the target (atomic on POSIX), then fsync the directory so the rename is durable.
  try {
    await onBeforeRename?.(temporaryPath);
  } catch (error) {
    await unlink(temporaryPath).catch(() => undefined);
    throw error;
  }
  try {
    await rename(temporaryPath, target);
  } catch (error) {
    await unlink(temporaryPath).catch(() => undefined);
    throw wrap(error);
  }
  await syncDirectory(directory);
}

/** Reads and strictly validates a safetensors checkpoint; every error names `path`. */
export async function loadCheckpointFile(path: string): Promise<ParsedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory, not a checkpoint file'
          : `cannot be read (${(error as Error).message})`;
    throw new DiffusionError('invalid-checkpoint', `checkpoint file ${path} ${problem}`, { cause: error });
  }
  return parseSafetensors(bytes, path);
}

/** The `step-NNNNNN.safetensors` files of `directory`, by ascending step (an absent directory has none; temporary files never match). */
export async function listCheckpoints(directory: string): Promise<CheckpointEntry[]> {
  let names: string[];
  try {
    const entries = await readdir(directory, { withFileTypes: true });
    names = entries.filter((entry) => entry.isFile() || entry.isSymbolicLink()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DiffusionError('invalid-argument', `cannot list checkpoints in ${directory}: ${(error as Error).message}`, { cause: error });
  }
  const found: CheckpointEntry[] = [];
  for (const fileName of names) {
    const match = CHECKPOINT_NAME.exec(fileName);
    if (match) found.push({ step: Number(match[1]), fileName, path: join(directory, fileName) });
  }
  return found.sort((left, right) => left.step - right.step || (left.fileName < right.fileName ? -1 : 1));
}

/** The checkpoint with the highest step in `directory`, or null if there is none. */
export async function latestCheckpoint(directory: string): Promise<CheckpointEntry | null> {
  const found = await listCheckpoints(directory);
  return found[found.length - 1] ?? null;
}

/** Deletes all but the `keep` highest-step checkpoints of `directory`; returns the deleted paths. */
export async function pruneCheckpoints(directory: string, keep: number): Promise<string[]> {
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw new DiffusionError('invalid-argument', `pruneCheckpoints: keep must be a non-negative integer, got ${keep}`);
  }
  const found = await listCheckpoints(directory);
  const doomed = found.slice(0, Math.max(0, found.length - keep));
  for (const entry of doomed) await removeIfPresent(entry.path);
  return doomed.map((entry) => entry.path);
}

/**
 * Deletes temporary files left in `directory` by interrupted saves (a crash mid-save); returns the
 * deleted paths. A file is stale when the process that wrote it is gone, or when it is older than
 * the process now holding its pid (pid reuse: this process, or another, started after the file was
 * last written). A save in progress is never removed.
 */
export async function removeStaleTemporaryFiles(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DiffusionError('invalid-argument', `cannot list ${directory}: ${(error as Error).message}`, { cause: error });
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY_NAME.exec(name);
    if (!match) continue;
    const path = join(directory, name);
    if (processIsAlive(Number(match[1])) && !(await olderThanProcess(path, Number(match[1])))) continue;
    await removeIfPresent(path);
    removed.push(path);
  }
  return removed;
}

async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    // Directories cannot be opened or fsynced on Windows and some file systems; the rename is done.
    const code = (error as NodeJS.ErrnoException).code;
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'EBADF', 'ENOTSUP'].includes(code ?? '')) {
      throw new DiffusionError('invalid-argument', `cannot fsync directory ${directory}: ${(error as Error).message}`, { cause: error });
    }
  } finally {
    await handle?.close();
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DiffusionError('invalid-argument', `cannot delete ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Whether `path` was last modified before the process `pid` started (false when either is unknown). */
async function olderThanProcess(path: string, pid: number): Promise<boolean> {
  const started = processStartTime(pid);
  if (started === null) return false;
  try {
    return (await stat(path)).mtimeMs < started;
  } catch {
    return false;
  }
}

/** When process `pid` started, in ms since the epoch: this process's time origin, else Linux /proc (null elsewhere). */
function processStartTime(pid: number): number | null {
  if (pid === process.pid) return performance.timeOrigin;
  try {
    // /proc/PID/stat field 22: start time in clock ticks (USER_HZ = 100 on Linux) after boot; /proc/stat btime: boot time in s
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()!.trim().split(' ');
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    const ticks = Number(fields[19]);
    return Number.isFinite(bootSeconds) && Number.isFinite(ticks) ? bootSeconds * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
