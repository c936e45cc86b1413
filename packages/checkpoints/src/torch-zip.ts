import { DiffusionError } from '@tfjs-diffusion/core';
import { type ByteSource, checkRange } from './torch-byte-source.js';

/** One stored (uncompressed) member of a zip archive: where its bytes lie in the file. */
export interface ZipEntry {
  readonly name: string;
  /** Offset of the member's data (after its local header). */
  readonly dataOffset: number;
  readonly size: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const MAX_COMMENT = 0xffff;
const MAX_ENTRIES = 1_000_000;

function u16(view: DataView, offset: number): number {
  return view.getUint16(offset, true);
}
function u32(view: DataView, offset: number): number {
  return view.getUint32(offset, true);
}
function u64(view: DataView, offset: number, what: string): number {
  const value = view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(value)) throw new DiffusionError('invalid-checkpoint', `zip: ${what} ${value} is too large`);
  return value;
}
function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Lists the members of a zip archive (PKWARE APPNOTE: end of central directory, zip64 records,
 * central and local headers), as PyTorch >= 1.6 writes `.pt` files: every member stored without
 * compression. Every offset and length is checked against the file before it is used; a
 * compressed member, an encrypted one or a member outside the file is an error naming it.
 */
export function readZipEntries(source: ByteSource, what = 'zip'): Map<string, ZipEntry> {
  // 1. the end-of-central-directory record: the last signature within 22 + 65535 bytes of the end
  const tailLength = Math.min(source.size, 22 + MAX_COMMENT);
  if (tailLength < 22) throw new DiffusionError('invalid-checkpoint', `${what}: ${source.size} bytes is too short for a zip archive`);
  const tail = source.read(source.size - tailLength, tailLength);
  const tailView = viewOf(tail);
  let endOffset = -1;
  for (let position = tailLength - 22; position >= 0; position -= 1) {
    if (u32(tailView, position) === END_OF_CENTRAL_DIRECTORY) {
      endOffset = position;
      break;
    }
  }
  if (endOffset < 0) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${what}: not a zip archive (no end-of-central-directory record); PyTorch files saved before 1.6 (legacy format) are not supported: re-save with torch.save in PyTorch >= 1.6`,
    );
  }
  let entryCount = u16(tailView, endOffset + 10);
  let directorySize = u32(tailView, endOffset + 12);
  let directoryOffset = u32(tailView, endOffset + 16);
  // 2. zip64: the locator sits just before the end record and points at the zip64 end record
  const absoluteEnd = source.size - tailLength + endOffset;
  if ((entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) && absoluteEnd >= 20) {
    const locator = viewOf(source.read(absoluteEnd - 20, 20));
    if (u32(locator, 0) === ZIP64_LOCATOR) {
      const recordOffset = u64(locator, 8, 'zip64 record offset');
      checkRange(recordOffset, 56, source.size, `${what}: zip64 end record`);
      const record = viewOf(source.read(recordOffset, 56));
      if (u32(record, 0) !== ZIP64_END) throw new DiffusionError('invalid-checkpoint', `${what}: bad zip64 end record signature`);
      entryCount = u64(record, 32, 'entry count');
      directorySize = u64(record, 40, 'central directory size');
      directoryOffset = u64(record, 48, 'central directory offset');
    }
  }
  if (entryCount > MAX_ENTRIES) throw new DiffusionError('invalid-checkpoint', `${what}: ${entryCount} members is more than ${MAX_ENTRIES}`);
  checkRange(directoryOffset, directorySize, source.size, `${what}: central directory`);
  const directory = source.read(directoryOffset, directorySize);
  const directoryView = viewOf(directory);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const entries = new Map<string, ZipEntry>();
  let position = 0;
  // 3. central directory headers: name, method, sizes and the local header offset (zip64 extra field)
  for (let index = 0; index < entryCount; index += 1) {
    if (position + 46 > directory.length || u32(directoryView, position) !== CENTRAL_HEADER) {
      throw new DiffusionError('invalid-checkpoint', `${what}: central directory entry ${index} is truncated or corrupt`);
    }
    const flags = u16(directoryView, position + 8);
    const method = u16(directoryView, position + 10);
    let compressedSize = u32(directoryView, position + 20);
    let size = u32(directoryView, position + 24);
    const nameLength = u16(directoryView, position + 28);
    const extraLength = u16(directoryView, position + 30);
    const commentLength = u16(directoryView, position + 32);
    let localOffset = u32(directoryView, position + 42);
    const headerEnd = position + 46 + nameLength + extraLength + commentLength;
    if (headerEnd > directory.length) throw new DiffusionError('invalid-checkpoint', `${what}: central directory entry ${index} is truncated`);
    const name = decoder.decode(directory.subarray(position + 46, position + 46 + nameLength));
    let extra = position + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = u16(directoryView, extra);
      const length = u16(directoryView, extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        const take = (): number => {
          if (field + 8 > extra + 4 + length) throw new DiffusionError('invalid-checkpoint', `${what}: zip64 field of ${name} is truncated`);
          const value = u64(directoryView, field, `zip64 field of ${name}`);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      extra += 4 + length;
    }
    if ((flags & 1) !== 0) throw new DiffusionError('invalid-checkpoint', `${what}: member ${name} is encrypted`);
    if (method !== 0 || compressedSize !== size) {
      throw new DiffusionError(
        'invalid-checkpoint',
        `${what}: member ${name} is compressed (method ${method}); PyTorch stores members uncompressed, re-save the file with torch.save`,
      );
    }
    // 4. the local header: its own name and extra lengths give where the data starts
    checkRange(localOffset, 30, source.size, `${what}: local header of ${name}`);
    const local = viewOf(source.read(localOffset, 30));
    if (u32(local, 0) !== LOCAL_HEADER) throw new DiffusionError('invalid-checkpoint', `${what}: bad local header for ${name}`);
    const dataOffset = localOffset + 30 + u16(local, 26) + u16(local, 28);
    checkRange(dataOffset, size, source.size, `${what}: member ${name}`);
    if (entries.has(name)) throw new DiffusionError('invalid-checkpoint', `${what}: member ${name} appears twice`);
    entries.set(name, { name, dataOffset, size });
    position = headerEnd;
  }
  return entries;
}
