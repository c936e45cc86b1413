import { DiffusionError } from '@tfjs-diffusion/core';

/** A parsed IDX array (LeCun's MNIST format): big-endian dimensions and unsigned-byte data. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

/**
 * Parses an (uncompressed) IDX file strictly: magic 0x0000TTNN, NN big-endian u32 dimensions, then
 * exactly prod(dims) bytes; only unsigned-byte data (type 0x08). Errors name `fileName` and the defect.
 */
export function parseIdx(bytes: Uint8Array, fileName: string, expected?: { readonly dimensions: number }): IdxArray {
  const fail = (problem: string): never => {
    throw new DiffusionError('data-error', `${fileName}: ${problem}`);
  };
  if (bytes.length === 0) fail('file is empty');
  if (bytes.length < 4) fail(`file is truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const magicText = `0x${magic.toString(16).padStart(8, '0')}`;
  const type = bytes[2] as number;
  const dimensions = bytes[3] as number;
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`corrupt magic number ${magicText}: an IDX file begins with two zero bytes`);
  if (type !== 0x08) {
    const typeName = TYPE_NAMES[type];
    fail(
      typeName
        ? `IDX data type ${typeName} (magic ${magicText}) is not supported, only unsigned byte (0x08)`
        : `corrupt magic number ${magicText}: unknown IDX data type 0x${type.toString(16)}`,
    );
  }
  if (dimensions === 0) fail(`corrupt magic number ${magicText}: zero dimensions`);
  if (expected && dimensions !== expected.dimensions) {
    fail(`magic number ${magicText} declares ${dimensions} dimensions, expected ${expected.dimensions} (0x0000080${expected.dimensions})`);
  }
  const headerLength = 4 + 4 * dimensions;
  if (bytes.length < headerLength) fail(`file is truncated: ${bytes.length} bytes, shorter than its ${headerLength}-byte header`);
  const dims = Array.from({ length: dimensions }, (_, axis) => view.getUint32(4 + 4 * axis, false));
  const size = dims.reduce((product, dim) => product * dim, 1);
  const available = bytes.length - headerLength;
  if (available < size) fail(`file is truncated: dimensions [${dims.join(', ')}] need ${size} data bytes, the file has ${available}`);
  if (available > size) fail(`${available - size} unexpected trailing bytes after the ${size} data bytes of dimensions [${dims.join(', ')}]`);
  return { dims, data: bytes.subarray(headerLength) };
}
