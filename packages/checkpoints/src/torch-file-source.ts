import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DiffusionError } from '@tfjs-diffusion/core';
import { type ByteSource, checkRange } from './torch-byte-source.js';

/** A `ByteSource` over a file on disk (Node): reads only the ranges asked for, so a 2 GB checkpoint is never held whole. Call `close()` when done. */
export function fileByteSource(path: string): ByteSource & { close(): void } {
  const descriptor = openSync(path, 'r');
  const size = fstatSync(descriptor).size;
  return {
    size,
    read(offset, length) {
      checkRange(offset, length, size, path);
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const count = readSync(descriptor, bytes, done, length - done, offset + done);
        if (count === 0)
          throw new DiffusionError('invalid-checkpoint', `${path}: the file ended at byte ${offset + done} (it changed while being read?)`);
        done += count;
      }
      return bytes;
    },
    close() {
      closeSync(descriptor);
    },
  };
}
