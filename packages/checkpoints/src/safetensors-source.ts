import { MAX_HEADER_BYTES } from './safetensors-layout.js';
import { decodeSafetensorsTensor, parseSafetensorsHeader, type ParsedTensor, type SafetensorsEntry, type SafetensorsHeader } from './safetensors.js';
import type { ByteSource } from './torch-byte-source.js';

/** The start of a file that holds its safetensors header: the length prefix and as much of the header as the file has (bounded). */
function headerBytes(source: ByteSource): Uint8Array {
  if (source.size < 8) return source.read(0, source.size);
  const prefix = source.read(0, 8);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  const wanted = length > BigInt(Math.min(MAX_HEADER_BYTES, source.size - 8)) ? 0 : Number(length);
  return wanted === 0 ? prefix : source.read(0, 8 + wanted);
}

/**
 * `parseSafetensorsHeader` of the file's bytes or of a `ByteSource` (e.g. `fileByteSource` in
 * Node), from which only the length prefix and the header are read; the same checks and errors.
 */
export function parseSafetensorsHeaderOf(input: Uint8Array | ByteSource, fileName: string): SafetensorsHeader {
  return input instanceof Uint8Array ? parseSafetensorsHeader(input, fileName) : parseSafetensorsHeader(headerBytes(input), fileName, input.size);
}

/** `decodeSafetensorsTensor` of the file's bytes or of a `ByteSource`, from which only the tensor's bytes are read. */
export function decodeSafetensorsTensorOf(
  input: Uint8Array | ByteSource,
  header: SafetensorsHeader,
  entry: SafetensorsEntry,
  requireFinite = false,
): ParsedTensor {
  if (input instanceof Uint8Array) return decodeSafetensorsTensor(input, header, entry, requireFinite);
  const bytes = input.read(header.dataStart + entry.begin, entry.end - entry.begin);
  // the tensor's own bytes, decoded as a file whose data buffer holds only it
  return decodeSafetensorsTensor(bytes, { ...header, dataStart: 0 }, { ...entry, begin: 0, end: entry.end - entry.begin }, requireFinite);
}
