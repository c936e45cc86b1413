import { DiffusionError } from '@tfjs-diffusion/core';

/**
 * Random access to the bytes of a (possibly large) file: an in-memory array in browsers, a file
 * handle in Node (`fileByteSource` in `@tfjs-diffusion/checkpoints/node`), so a reader can decode
 * one tensor at a time instead of holding the whole file.
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset` (a view or a copy); throws when the range is outside the file. */
  read(offset: number, length: number): Uint8Array;
}

/** A `ByteSource` over bytes in memory (views, no copies). */
export function memoryByteSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      checkRange(offset, length, bytes.length, 'bytes');
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Throws DiffusionError('invalid-checkpoint') unless [offset, offset + length) lies inside [0, size). */
export function checkRange(offset: number, length: number, size: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new DiffusionError('invalid-checkpoint', `${what}: bytes [${offset}, ${offset + length}) lie outside the ${size}-byte file`);
  }
}
