import { readFileSync, writeFileSync } from 'node:fs';
import { DiffusionError } from '@tfjs-diffusion/core';

// The files the large-images benchmark and its three runners (ours, PyTorch, onnxruntime-node)
// share: one input per batch size, and each runner's output, so all three see the same numbers.
// Nothing here loads tfjs, so the onnxruntime-node runner's memory is its own.

/** One batch of network inputs in the peers' layout: x NCHW float32, integer timesteps, class labels or null. */
export interface LargeImagesInput {
  readonly batch: number;
  readonly channels: number;
  readonly size: number;
  /** [batch, channels, size, size], NCHW. */
  readonly x: Float32Array;
  readonly timesteps: readonly number[];
  readonly labels: readonly number[] | null;
}

/** A short fingerprint of an output: its shape, sum, largest magnitude and first values. */
export interface OutputSummary {
  readonly shape: readonly number[];
  readonly sum: number;
  readonly maxAbs: number;
  readonly first: readonly number[];
}

const littleEndianFloats = (bytes: Uint8Array): Float32Array => {
  if (bytes.byteLength % 4 !== 0)
    throw new DiffusionError('data-error', `a float32 buffer of ${bytes.byteLength} bytes is not a whole number of values`);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
};

/** Writes an input as JSON ({batch, channels, size, x: base64 little-endian float32, timesteps, labels}), the form adm_peer.py reads. */
export function writeLargeImagesInput(path: string, input: LargeImagesInput): void {
  if (input.x.length !== input.batch * input.channels * input.size * input.size)
    throw new DiffusionError('invalid-argument', `x holds ${input.x.length} values, not batch x channels x size x size`);
  const x = Buffer.from(input.x.buffer, input.x.byteOffset, input.x.byteLength).toString('base64');
  writeFileSync(
    path,
    JSON.stringify({ batch: input.batch, channels: input.channels, size: input.size, x, timesteps: input.timesteps, labels: input.labels }),
  );
}

/** Reads an input written by writeLargeImagesInput, checking its sizes. */
export function readLargeImagesInput(path: string): LargeImagesInput {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const batch = raw['batch'];
  const channels = raw['channels'];
  const size = raw['size'];
  if (![batch, channels, size].every((value) => Number.isInteger(value) && (value as number) > 0))
    throw new DiffusionError('data-error', `${path}: batch, channels and size must be positive integers`);
  const x = littleEndianFloats(Buffer.from(String(raw['x']), 'base64'));
  const timesteps = raw['timesteps'] as number[];
  const labels = (raw['labels'] ?? null) as number[] | null;
  if (
    x.length !== (batch as number) * (channels as number) * (size as number) ** 2 ||
    timesteps.length !== batch ||
    (labels !== null && labels.length !== batch)
  )
    throw new DiffusionError('data-error', `${path}: x, timesteps or labels do not match batch ${batch as number}`);
  return { batch: batch as number, channels: channels as number, size: size as number, x, timesteps, labels };
}

/** Writes float32 values little-endian, as adm_peer.py's --output does. */
export function writeFloat32File(path: string, values: Float32Array): void {
  writeFileSync(path, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
}

/** Reads a little-endian float32 file. */
export function readFloat32File(path: string): Float32Array {
  return littleEndianFloats(readFileSync(path));
}

/** The fingerprint of an output (sum in float64). */
export function summariseOutput(values: ArrayLike<number>, shape: readonly number[]): OutputSummary {
  let sum = 0;
  let maxAbs = 0;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index] as number;
    sum += value;
    maxAbs = Math.max(maxAbs, Math.abs(value));
  }
  return { shape: [...shape], sum, maxAbs, first: Array.from({ length: Math.min(4, values.length) }, (_, index) => values[index] as number) };
}

/** The largest |a_i - b_i| over two outputs of the same length (NaN anywhere gives NaN). */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new DiffusionError('invalid-argument', `outputs of ${a.length} and ${b.length} values cannot be compared`);
  let worst = 0;
  for (let index = 0; index < a.length; index += 1) {
    const difference = Math.abs((a[index] as number) - (b[index] as number));
    if (Number.isNaN(difference)) return Number.NaN;
    worst = Math.max(worst, difference);
  }
  return worst;
}

/** [B, H, W, C] to [B, C, H, W]. */
export function nhwcToNchw(values: ArrayLike<number>, batch: number, size: number, channels: number): Float32Array {
  const out = new Float32Array(batch * channels * size * size);
  const plane = size * size;
  for (let image = 0; image < batch; image += 1)
    for (let pixel = 0; pixel < plane; pixel += 1)
      for (let channel = 0; channel < channels; channel += 1)
        out[(image * channels + channel) * plane + pixel] = values[(image * plane + pixel) * channels + channel] as number;
  return out;
}

/** [B, C, H, W] to [B, H, W, C]. */
export function nchwToNhwc(values: ArrayLike<number>, batch: number, size: number, channels: number): Float32Array {
  const out = new Float32Array(batch * channels * size * size);
  const plane = size * size;
  for (let image = 0; image < batch; image += 1)
    for (let pixel = 0; pixel < plane; pixel += 1)
      for (let channel = 0; channel < channels; channel += 1)
        out[(image * plane + pixel) * channels + channel] = values[(image * channels + channel) * plane + pixel] as number;
  return out;
}
