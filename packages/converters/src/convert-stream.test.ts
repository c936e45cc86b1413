import { readFileSync } from 'node:fs';
import { parseModelFile, readTorchWeights, type LazyTensor } from '@tfjs-diffusion/checkpoints';
import { describe, expect, it } from 'vitest';
import { convertAdmCheckpoint, convertAdmCheckpointTo } from './convert-checkpoint.js';

const directory = new URL('../fixtures/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('fixtures.json', directory), 'utf8')) as {
  cases: Record<string, { modelFlags: string; extraFlags: string; weights: string }>;
};
const fixture = manifest.cases['guided-64-style'] as { modelFlags: string; extraFlags: string; weights: string };
const modelFlags = `${fixture.modelFlags} ${fixture.extraFlags}`;

/** The fixture's tensors, each read() recorded in `log`. */
function loggedWeights(log: string[]): Map<string, LazyTensor> {
  const weights = readTorchWeights(new Uint8Array(readFileSync(new URL(fixture.weights, directory))), fixture.weights);
  return new Map(
    [...weights].map(([name, tensor]) => [
      name,
      {
        dtype: tensor.dtype,
        shape: tensor.shape,
        read() {
          log.push(`read ${name}`);
          return tensor.read();
        },
      },
    ]),
  );
}

describe('convertAdmCheckpointTo streams the model file', () => {
  it('writes the header, then each tensor before reading the next; the chunks are the bytes of convertAdmCheckpoint', () => {
    const log: string[] = [];
    const chunks: Uint8Array[] = [];
    const summary = convertAdmCheckpointTo({ from: 'guided-diffusion', modelFlags, weights: loggedWeights(log) }, (chunk, offset, byteLength) => {
      log.push(`write ${offset} of ${byteLength}`);
      chunks.push(chunk);
    });
    const tensors = summary.plan.kind === 'denoiser' ? chunks.length - 1 : 0;
    expect(tensors).toBeGreaterThan(20);
    // header, then (read, write) pairs: never two reads in a row, so one tensor is held at a time
    expect(log[0]).toBe(`write 0 of ${summary.byteLength}`);
    for (let index = 1; index < log.length; index += 2) {
      expect(log[index]).toMatch(/^read /);
      expect(log[index + 1]).toMatch(/^write /);
    }
    expect(log).toHaveLength(1 + 2 * tensors);
    // offsets are contiguous and the chunks add up to the whole file
    let position = 0;
    const bytes = new Uint8Array(summary.byteLength);
    chunks.forEach((chunk, index) => {
      expect(log[index === 0 ? 0 : 2 * index]).toBe(`write ${position} of ${summary.byteLength}`);
      bytes.set(chunk, position);
      position += chunk.length;
    });
    expect(position).toBe(summary.byteLength);
    const inMemory = convertAdmCheckpoint({ from: 'guided-diffusion', modelFlags, weights: loggedWeights([]) });
    expect(bytes).toEqual(inMemory.bytes);
    expect(summary.dtype).toBe('F16');
    expect(parseModelFile(bytes, 'streamed').tensors.size).toBe(tensors);
  });

  it('stops at a tensor that cannot be read, after writing only the tensors before it', () => {
    const weights = loggedWeights([]);
    const broken = 'input_blocks.1.0.in_layers.2.weight';
    const tensor = weights.get(broken) as LazyTensor;
    weights.set(broken, { ...tensor, read: () => Float32Array.from(tensor.read(), (value, index) => (index === 2 ? Number.NaN : value)) });
    let written = 0;
    expect(() => convertAdmCheckpointTo({ from: 'guided-diffusion', modelFlags, weights }, () => (written += 1))).toThrow(
      /tensor 'input_blocks.1.0.in_layers.2.weight' holds a non-finite value \(NaN at flat index \d+\)/,
    );
    expect(written).toBeGreaterThan(1);
  });
});
