import { readFile } from 'node:fs/promises';
import { DiffusionError } from '@tfjs-diffusion/core';
import { writeFileAtomically } from './checkpoint-files.js';
import { parseModelFile, writeModelFile, type ModelFileParts, type ParseModelFileOptions, type ParsedModelFile } from './model-file.js';

/** Reads the bytes of a model file, with an error naming the path when it is absent, a directory or empty. */
export async function readModelFileBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory, not a model file' : `cannot be read (${(error as Error).message})`;
    throw new DiffusionError('invalid-checkpoint', `model file ${path} ${problem}`, { cause: error });
  }
  if (bytes.length === 0) throw new DiffusionError('invalid-checkpoint', `model file ${path} is empty (0 bytes)`);
  return bytes;
}

/** `parseModelFile` of the file at `path` (errors name the path). */
export async function loadModelFile(path: string, options: ParseModelFileOptions = {}): Promise<ParsedModelFile> {
  return parseModelFile(await readModelFileBytes(path), path, options);
}

/** `writeModelFile` to `path`, atomically (a crash leaves the previous file or the new one, never a partial one). */
export async function saveModelFile(
  path: string,
  parts: ModelFileParts,
  onBeforeRename?: (temporaryPath: string) => void | Promise<void>,
): Promise<void> {
  await writeFileAtomically(path, writeModelFile(parts), onBeforeRename);
}
