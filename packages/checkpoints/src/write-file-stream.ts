import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * Writes a file chunk by chunk, atomically: `fill` receives `write` and hands it the bytes in
 * order (e.g. a safetensors header, then one tensor after another), so the whole file is never
 * held in memory. The chunks go to a temporary file in the same directory, which is fsynced and
 * renamed over `path` (then the directory is fsynced) only when `fill` returns; if `fill` throws,
 * the temporary file is removed and `path` keeps its previous content. Returns what `fill` returns.
 */
export function writeFileStreamAtomically<Result>(path: string, fill: (write: (chunk: Uint8Array) => void) => Result): Result {
  const target = resolve(path);
  const directory = dirname(target);
  const temporaryPath = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let descriptor: number;
  try {
    mkdirSync(directory, { recursive: true });
    descriptor = openSync(temporaryPath, 'wx', 0o644);
  } catch (error) {
    throw new DiffusionError('invalid-argument', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
  let result: Result;
  let open = true;
  try {
    // 1. The chunks, in order, then fsync.
    result = fill((chunk) => {
      let done = 0;
      while (done < chunk.length) done += writeSync(descriptor, chunk, done, chunk.length - done);
    });
    fsyncSync(descriptor);
    open = false;
    closeSync(descriptor);
  } catch (error) {
    if (open) closeSync(descriptor);
    unlinkSync(temporaryPath);
    throw error;
  }
  // 2. Rename over the target (atomic on POSIX), then fsync the directory so the rename is durable.
  try {
    renameSync(temporaryPath, target);
  } catch (error) {
    unlinkSync(temporaryPath);
    throw new DiffusionError('invalid-argument', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const directoryDescriptor = openSync(directory, 'r');
    try {
      fsyncSync(directoryDescriptor);
    } finally {
      closeSync(directoryDescriptor);
    }
  } catch {
    // some file systems cannot fsync a directory; the rename itself has happened
  }
  return result;
}
