import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASSIFIER_PATH, DEFAULT_MODEL_PATH } from './load-models.js';
import { ConfigurationError, parseServerConfiguration } from './server-configuration.js';

describe('parseServerConfiguration', () => {
  it('defaults to 127.0.0.1:8080, auto backend, the shipped models', () => {
    expect(parseServerConfiguration([], {})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      backend: 'auto',
      modelPath: DEFAULT_MODEL_PATH,
      classifierPath: DEFAULT_CLASSIFIER_PATH,
      maxBatch: 32,
      maxQueue: 256,
      batchWindowMilliseconds: 15,
      maxBodyBytes: 65536,
    });
  });

  it('reads the environment; flags win', () => {
    const environment = { PORT: '9000', HOST: '0.0.0.0', TFJS_DIFFUSION_BACKEND: 'cpu', MAX_BATCH: '4', MAX_QUEUE: '8', BATCH_WINDOW_MS: '0', CLASSIFIER: 'none' };
    expect(parseServerConfiguration([], environment)).toMatchObject({ port: 9000, host: '0.0.0.0', backend: 'cpu', maxBatch: 4, maxQueue: 8, batchWindowMilliseconds: 0, classifierPath: null });
    expect(parseServerConfiguration(['--port', '0', '--backend', 'wasm', '--max-batch', '2'], environment)).toMatchObject({ port: 0, backend: 'wasm', maxBatch: 2 });
    expect(parseServerConfiguration(['--help'], {})).toBe('help');
  });

  it('names the flag or variable that is wrong', () => {
    expect(() => parseServerConfiguration([], { PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => parseServerConfiguration(['--backend', 'gpu'], {})).toThrow(/--backend 'gpu' is not a backend/);
    expect(() => parseServerConfiguration([], { TFJS_DIFFUSION_BACKEND: 'gpu' })).toThrow(/TFJS_DIFFUSION_BACKEND/);
    expect(() => parseServerConfiguration(['--model', '/no/such.safetensors'], {})).toThrow(/model: \/no\/such.safetensors does not exist/);
    expect(() => parseServerConfiguration(['--max-batch', '64', '--max-queue', '8'], {})).toThrow(/max-queue \(8\) must be at least max-batch \(64\)/);
    expect(() => parseServerConfiguration(['--colour'], {})).toThrow(ConfigurationError);
  });
});
