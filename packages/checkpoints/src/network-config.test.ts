import { describe, expect, it } from 'vitest';
import { DiffusionError } from '@tfjs-diffusion/core';
import { checkpointMetadata, readConfigFromMetadata, validateAgainstShapes } from './network-config.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

describe('network config in __metadata__', () => {
  it('stores the config as JSON under "config" and reads it back through a file', () => {
    const config = { kind: 'unet', channels: [32, 64], attention: { heads: 4 } };
    const metadata = checkpointMetadata(config, { step: '1200', format: 'tfjs-diffusion' });
    expect(metadata).toEqual({ step: '1200', format: 'tfjs-diffusion', config: JSON.stringify(config) });
    const bytes = serializeSafetensors(new Map([['w', { shape: [1], data: new Float32Array([1]) }]]), { dtype: 'F32', metadata });
    const parsed = parseSafetensors(bytes, 'run.safetensors');
    expect(readConfigFromMetadata(parsed.metadata, 'run.safetensors')).toEqual(config);
  });

  it('names the file when the config is absent or malformed', () => {
    expect(() => readConfigFromMetadata({}, 'a.safetensors')).toThrow("a.safetensors: no 'config' entry in __metadata__");
    expect(() => readConfigFromMetadata({ config: '{oops' }, 'b.safetensors')).toThrow(/b\.safetensors: __metadata__\.config is not valid JSON/);
    expect(() => readConfigFromMetadata({ config: '[1]' }, 'c.safetensors')).toThrow('c.safetensors: __metadata__.config must hold a JSON object');
    expect(() => checkpointMetadata({}, { config: 'x' })).toThrow(/reserved key 'config'/);
    expect(() => checkpointMetadata([] as object)).toThrow(DiffusionError);
  });
});

describe('validateAgainstShapes', () => {
  const expected = new Map<string, number[]>([
    ['conv.weight', [3, 3, 1, 8]],
    ['conv.bias', [8]],
    ['dense.weight', [8, 2]],
  ]);

  it('accepts an exact match', () => {
    const tensors = new Map([...expected].map(([name, shape]) => [name, { shape }]));
    expect(() => validateAgainstShapes(tensors, expected, 'ok.safetensors')).not.toThrow();
  });

  it('names every missing, unexpected and mismatched parameter', () => {
    const tensors = new Map([
      ['conv.weight', { shape: [3, 3, 1, 16] }],
      ['conv.bias', { shape: [8] }],
      ['extra.scale', { shape: [1] }],
    ]);
    let error: unknown;
    try {
      validateAgainstShapes(tensors, expected, 'bad.safetensors');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DiffusionError);
    expect((error as DiffusionError).code).toBe('invalid-checkpoint');
    expect((error as DiffusionError).message).toBe(
      "bad.safetensors does not match the network: missing parameters: 'dense.weight'; unexpected parameters: 'extra.scale'; " +
        "shape mismatches: 'conv.weight' is [3, 3, 1, 16], expected [3, 3, 1, 8]",
    );
  });

  it('abbreviates long lists', () => {
    const many = new Map(Array.from({ length: 25 }, (_, index) => [`p${String(index).padStart(2, '0')}`, [1]] as [string, number[]]));
    expect(() => validateAgainstShapes(new Map(), many, 'empty.safetensors')).toThrow(/'p09' and 15 more/);
  });
});
