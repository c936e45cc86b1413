import { DEFAULT_CLASSIFIER_PATH, DEFAULT_MODEL_PATH } from '@tfjs-diffusion/serving';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseServerConfiguration } from './server-configuration.js';

describe('parseServerConfiguration', () => {
  it('defaults to 127.0.0.1:8080, auto backend, the shipped model as "mnist", in process', () => {
    expect(parseServerConfiguration([], {})).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      backend: 'auto',
      models: [{ name: 'mnist', path: DEFAULT_MODEL_PATH }],
      classifierPath: DEFAULT_CLASSIFIER_PATH,
      maxBatch: 32,
      maxQueue: 256,
      batchWindowMilliseconds: 15,
      maxBodyBytes: 65536,
      queueUrl: null,
      jobTimeoutMilliseconds: 120_000,
      headersTimeoutMilliseconds: 10_000,
      requestTimeoutMilliseconds: 30_000,
      keepAliveTimeoutMilliseconds: 5000,
    });
  });

  it('reads repeated --model NAME=FILE, a bare FILE named after the file, --queue; flags win over the environment', () => {
    const environment = {
      PORT: '9000',
      HOST: '0.0.0.0',
      TFJS_DIFFUSION_BACKEND: 'cpu',
      MAX_BATCH: '4',
      MAX_QUEUE: '8',
      BATCH_WINDOW_MS: '0',
      CLASSIFIER: 'none',
      QUEUE_URL: 'redis://127.0.0.1:6390',
    };
    expect(parseServerConfiguration([], environment)).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      backend: 'cpu',
      maxBatch: 4,
      maxQueue: 8,
      batchWindowMilliseconds: 0,
      classifierPath: null,
      queueUrl: 'redis://127.0.0.1:6390',
    });
    const configuration = parseServerConfiguration(
      ['--model', `digits=${DEFAULT_MODEL_PATH}`, '--model', DEFAULT_MODEL_PATH, '--queue', 'redis://h:1'],
      environment,
    );
    expect(configuration).toMatchObject({
      models: [
        { name: 'digits', path: DEFAULT_MODEL_PATH },
        { name: 'mnist-unet', path: DEFAULT_MODEL_PATH },
      ],
      queueUrl: 'redis://h:1',
    });
    expect(parseServerConfiguration(['--help'], {})).toBe('help');
  });

  it('names the flag or variable that is wrong', () => {
    expect(() => parseServerConfiguration([], { PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => parseServerConfiguration(['--backend', 'gpu'], {})).toThrow(/--backend 'gpu' is not a backend/);
    expect(() => parseServerConfiguration(['--model', 'a=/no/such.safetensors'], {})).toThrow(/model a: \/no\/such.safetensors does not exist/);
    expect(() => parseServerConfiguration(['--model', `a=${DEFAULT_MODEL_PATH}`, '--model', `a=${DEFAULT_MODEL_PATH}`], {})).toThrow(
      /name a is given twice/,
    );
    expect(() => parseServerConfiguration(['--model', `bad name=${DEFAULT_MODEL_PATH}`], {})).toThrow(/letters, digits/);
    expect(() => parseServerConfiguration(['--queue', 'http://h:1'], {})).toThrow(/--queue: .*redis:\/\//);
    expect(() => parseServerConfiguration(['--max-batch', '64', '--max-queue', '8'], {})).toThrow(
      /max-queue \(8\) must be at least max-batch \(64\)/,
    );
    expect(() => parseServerConfiguration(['--colour'], {})).toThrow(ConfigurationError);
  });
});
