import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParameters, readParameters, type ParameterData } from './load-parameters.js';
import { createMlpDenoiser } from './mlp-denoiser.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';

beforeAll(useCpuBackend);

describe('loadParameters', () => {
  it('round-trips parameters between two models of the same config', async () => {
    const source = createMlpDenoiser({ dataDimension: 2, hiddenSize: 8, hiddenLayers: 1, seed: 1 });
    const target = createMlpDenoiser({ dataDimension: 2, hiddenSize: 8, hiddenLayers: 1, seed: 2 });
    const saved = await readParameters(source);
    loadParameters(target, saved);
    for (const [name, variable] of target.parameters) {
      expect(Array.from(variable.dataSync())).toEqual(Array.from(saved.get(name)?.data ?? []));
    }
    source.dispose();
    target.dispose();
  });

  it('names missing, unexpected and mis-shaped parameters and assigns nothing', async () => {
    const model = createMlpDenoiser({ dataDimension: 2, hiddenSize: 8, hiddenLayers: 1, seed: 1 });
    const saved = await readParameters(model);
    const before = Array.from(model.parameters.get('output.weight')?.dataSync() ?? []);
    const broken = new Map<string, ParameterData>(saved);
    broken.set('output.weight', { shape: [8, 2], data: new Float32Array(16).fill(7) });
    broken.delete('time_embed.0.bias');
    broken.set('extra.weight', { shape: [1], data: new Float32Array(1) });
    broken.set('output.bias', { shape: [3], data: new Float32Array(3) });
    broken.set('input_projection.bias', { shape: [8], data: new Float32Array(5) });
    const error = catchDiffusionError(() => loadParameters(model, broken), 'invalid-checkpoint');
    expect(error.message).toMatch(/missing 1: time_embed.0.bias/);
    expect(error.message).toMatch(/unexpected 1: extra.weight/);
    expect(error.message).toMatch(/output.bias \(model \[2\], saved \[3\]\)/);
    expect(error.message).toMatch(/input_projection.bias \(shape \[8\] needs 8 values, data has 5\)/);
    expect(Array.from(model.parameters.get('output.weight')?.dataSync() ?? [])).toEqual(before);
    expect(tf.memory().numTensors).toBeGreaterThan(0);
    model.dispose();
  });
});
