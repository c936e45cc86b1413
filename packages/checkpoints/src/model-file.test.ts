import { describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { parseModelFile, writeModelFile, type ModelFileParts } from './model-file.js';
import type { ModelFileMetadataInput } from './model-metadata.js';
import { parseSafetensors, serializeSafetensors, type HostTensor } from './safetensors.js';

const metadata: ModelFileMetadataInput = {
  network: { type: 'unet', imageSize: 8, inChannels: 1, modelChannels: 4, numClasses: 3, prediction: 'epsilon', variance: 'fixed-large' },
  schedule: { kind: 'cosine', timesteps: 50 },
  prediction: 'epsilon',
  variance: 'fixed-large',
  conditioning: { numClasses: 3, nullClass: 3, classNames: ['a', 'b', 'c'] },
  data: { shape: [8, 8, 1], range: [-1, 1] },
  weights: 'ema',
};
const tensors = new Map<string, HostTensor>([
  ['conv.weight', { shape: [3, 3, 1, 4], data: Float32Array.from({ length: 36 }, (_, index) => index / 10) }],
  ['conv.bias', { shape: [4], data: new Float32Array([1, 2, 3, 4]) }],
]);
const parts: ModelFileParts = { metadata, tensors, extra: { command: 'test' } };

/** The file with one `__metadata__` entry replaced (the tensors unchanged). */
function withEntry(key: string, value: string | undefined): Uint8Array {
  const parsed = parseSafetensors(writeModelFile(parts));
  const entries = { ...parsed.metadata };
  if (value === undefined) delete entries[key];
  else entries[key] = value;
  return serializeSafetensors(parsed.tensors, { dtype: 'F32', metadata: entries });
}

function expectRefused(bytes: Uint8Array, fragment: string, options = {}): void {
  let caught: unknown;
  try {
    parseModelFile(bytes, 'hostile.safetensors', options);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DiffusionError);
  expect((caught as DiffusionError).code).toBe('invalid-checkpoint');
  expect((caught as Error).message).toContain('hostile.safetensors');
  expect((caught as Error).message).toContain(fragment);
}

describe('model files (format version 1)', () => {
  it('round-trips metadata, tensors and extra entries', () => {
    const file = parseModelFile(writeModelFile(parts), 'model.safetensors');
    expect(file.metadata).toEqual({ ...metadata, formatVersion: 1 });
    expect([...file.tensors.keys()].sort()).toEqual(['conv.bias', 'conv.weight']);
    expect(Array.from(file.tensors.get('conv.bias')?.data ?? [])).toEqual([1, 2, 3, 4]);
    expect(file.emaTensors).toBeNull();
    expect(file.extra).toEqual({ command: 'test' });
  });

  it("keeps a training checkpoint's EMA and state tensors apart from the model tensors", () => {
    const bytes = writeModelFile({
      ...parts,
      metadata: { ...metadata, weights: 'raw', training: { step: 7, adamStep: 7 } },
      emaTensors: tensors,
      trainingTensors: new Map([['adam.m.conv.bias', { shape: [4], data: new Float32Array(4) }]]),
    });
    const file = parseModelFile(bytes, 'checkpoint.safetensors');
    expect(file.metadata.training).toEqual({ step: 7, adamStep: 7 });
    expect([...(file.emaTensors?.keys() ?? [])].sort()).toEqual(['conv.bias', 'conv.weight']);
    expect([...file.trainingTensors.keys()]).toEqual(['adam.m.conv.bias']);
    expect(file.tensors.size).toBe(2);
  });

  it('names each hostile metadata field and the file', () => {
    const network = metadata.network;
    expectRefused(
      withEntry('network', JSON.stringify({ ...network, modelChannels: 4096 })),
      '__metadata__.network.modelChannels is 4096, outside [1, 2048]',
    );
    expectRefused(withEntry('network', JSON.stringify({ ...network, imageSize: 4096 })), '__metadata__.network.imageSize is 4096, outside [1, 1024]');
    expectRefused(
      withEntry('schedule', JSON.stringify({ kind: 'cosine', timesteps: 1e9 })),
      '__metadata__.schedule.timesteps is 1000000000, outside [1, 100000]',
    );
    expectRefused(withEntry('schedule', '{"kind":"cosine"'), '__metadata__.schedule is not valid JSON');
    expectRefused(
      withEntry('schedule', JSON.stringify({ kind: 'cosine', timesteps: 3, betas: [0.1, 2, 0.1] })),
      '__metadata__.schedule.betas[1] must be a number in (0, 1)',
    );
    expectRefused(withEntry('schedule', JSON.stringify({ kind: 'wavy', timesteps: 3 })), '__metadata__.schedule.kind must be one of');
    expectRefused(
      withEntry('data', JSON.stringify({ shape: [16, 16, 1], range: [-1, 1] })),
      '__metadata__.data.shape is [16, 16, 1], but network.imageSize is 8',
    );
    expectRefused(withEntry('data', JSON.stringify({ shape: [8, 8, 1], range: [1, -1] })), '__metadata__.data.range must have low < high');
    expectRefused(
      withEntry('conditioning', JSON.stringify({ numClasses: 3, nullClass: 9 })),
      '__metadata__.conditioning.nullClass is 9, outside [0, 3]',
    );
    expectRefused(
      withEntry('conditioning', JSON.stringify({ numClasses: 3, nullClass: 3, classNames: ['a'] })),
      '__metadata__.conditioning.classNames must list 3 names',
    );
    expectRefused(withEntry('prediction', 'noise'), "__metadata__.prediction must be one of 'epsilon', 'x0', 'v'");
    expectRefused(withEntry('weights', undefined), '__metadata__.weights is missing');
    expectRefused(withEntry('formatVersion', '7'), '__metadata__.formatVersion is "7"');
    const deep = `{"kind":"cosine","timesteps":10,"betaStart":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expectRefused(withEntry('schedule', deep), '__metadata__.schedule nests 100001 levels deep (at most 16)');
  });

  it('checks tensor shapes against the config before decoding', () => {
    const expected = new Map([
      ['conv.weight', [3, 3, 1, 4]],
      ['conv.bias', [4]],
    ]);
    expect(parseModelFile(writeModelFile(parts), 'ok', { expectedShapes: () => expected }).tensors.size).toBe(2);
    const wider = new Map([
      ['conv.weight', [3, 3, 1, 8]],
      ['conv.bias', [8]],
    ]);
    expectRefused(
      writeModelFile(parts),
      "(its __metadata__.network) does not match the network: shape mismatches: 'conv.bias' is [4], expected [8]",
      {
        expectedShapes: () => wider,
      },
    );
  });

  it('refuses a NaN or infinite weight at load, naming the tensor', () => {
    const parsed = parseSafetensors(writeModelFile(parts));
    const bias = parsed.tensors.get('conv.bias') as HostTensor;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const data = Float32Array.from(bias.data);
      data[2] = bad;
      const tensorsWithBad = new Map<string, HostTensor>(parsed.tensors);
      tensorsWithBad.set('conv.bias', { shape: [4], data });
      expectRefused(
        serializeSafetensors(tensorsWithBad, { dtype: 'F16', metadata: parsed.metadata }),
        `tensor 'conv.bias' holds a non-finite value (${String(bad)} at flat index 2)`,
      );
    }
  });

  it('the writer refuses non-finite values and invalid metadata', () => {
    const bad = new Map(tensors);
    bad.set('conv.bias', { shape: [4], data: new Float32Array([0, Number.NaN, 0, 0]) });
    expect(() => writeModelFile({ ...parts, tensors: bad })).toThrow("tensor 'conv.bias' holds a non-finite value (NaN at flat index 1)");
    expect(() => writeModelFile({ ...parts, metadata: { ...metadata, schedule: { kind: 'cosine', timesteps: 0 } } })).toThrow(
      '__metadata__.schedule.timesteps is 0',
    );
    expect(() => writeModelFile({ ...parts, extra: { network: '{}' } })).toThrow("reserved key 'network'");
  });

  it("reads the CLI's earlier layout as format version 0", () => {
    const bytes = serializeSafetensors(tensors, {
      dtype: 'F16',
      metadata: {
        config: JSON.stringify({ type: 'unet', imageSize: 8, inChannels: 1, numClasses: 3, variance: 'learned-range' }),
        schedule: JSON.stringify({ kind: 'linear', timesteps: 100 }),
        weights: 'ema 0.999',
        step: '12',
      },
    });
    const file = parseModelFile(bytes, 'old.safetensors');
    expect(file.metadata).toMatchObject({
      formatVersion: 0,
      schedule: { kind: 'linear', timesteps: 100 },
      prediction: 'epsilon',
      variance: 'learned-range',
      conditioning: { numClasses: 3, nullClass: 3 },
      data: { shape: [8, 8, 1], range: [-1, 1] },
      weights: 'ema',
    });
    expect(file.extra).toEqual({ step: '12' });
    const hostile = serializeSafetensors(tensors, {
      dtype: 'F32',
      metadata: { config: JSON.stringify({ type: 'unet', imageSize: 8, inChannels: 1 }), schedule: '{"kind":"cosine","timesteps":"x"}' },
    });
    expectRefused(hostile, '__metadata__.schedule.timesteps must be an integer');
    expectRefused(
      serializeSafetensors(tensors, {
        dtype: 'F32',
        metadata: {
          config: JSON.stringify({ type: 'unet', imageSize: 8, inChannels: 1, modelChannels: 4096 }),
          schedule: '{"kind":"cosine","timesteps":10}',
        },
      }),
      '__metadata__.config.modelChannels is 4096',
    );
  });
});
