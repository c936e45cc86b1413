import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKEND_ENVIRONMENT_VARIABLE, parseBackendName } from '@tfjs-diffusion/backends';
import type { BackendName } from '@tfjs-diffusion/core';
import { DEFAULT_CLASSIFIER_PATH, DEFAULT_MODEL_PATH } from './load-models.js';

/** Everything `main` needs to start a server, from flags and environment variables. */
export interface ServerConfiguration {
  readonly port: number;
  readonly host: string;
  readonly backend: BackendName;
  readonly modelPath: string;
  /** null: no classifier guidance. */
  readonly classifierPath: string | null;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly batchWindowMilliseconds: number;
  readonly maxBodyBytes: number;
}

export const SERVER_USAGE = `usage: node dist/main.js [options]   (or pnpm server from the repository root)

  --port N               port (env PORT, default 8080)
  --host ADDRESS         interface (env HOST, default 127.0.0.1; 0.0.0.0 for every interface)
  --backend NAME         auto | tensorflow | webgpu | wasm | cpu (env ${BACKEND_ENVIRONMENT_VARIABLE}, default auto:
                         tfjs-node(-gpu) when installed, else WebGPU on a GPU through Dawn, else wasm)
  --model FILE           U-Net denoiser (env MODEL, default models/mnist-unet.safetensors)
  --classifier FILE|none noise-aware classifier for guidance "classifier" (env CLASSIFIER,
                         default models/mnist-classifier.safetensors when present)
  --max-batch N          most samples per network call (env MAX_BATCH, default 32)
  --max-queue N          most samples waiting before 429 (env MAX_QUEUE, default 256)
  --batch-window-ms MS   how long a first request waits for others to join (env BATCH_WINDOW_MS, default 15)
  --max-body-bytes N     largest request body (default 65536)
  --help                 this text`;

/** A configuration error: main prints it with the usage and exits 2. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

function integer(text: string | undefined, name: string, fallback: number, minimum: number, maximum: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new ConfigurationError(`${name} must be an integer in [${minimum}, ${maximum}], got '${text}'`);
  }
  return value;
}

function number(text: string | undefined, name: string, fallback: number, minimum: number, maximum: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < minimum || value > maximum) {
    throw new ConfigurationError(`${name} must be a number in [${minimum}, ${maximum}], got '${text}'`);
  }
  return value;
}

/** Reads flags (which win) and environment variables; returns 'help' for --help. */
export function parseServerConfiguration(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ServerConfiguration | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        backend: { type: 'string' },
        model: { type: 'string' },
        classifier: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue': { type: 'string' },
        'batch-window-ms': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  if (values['help']) return 'help';
  const flag = (name: string): string | undefined => values[name] as string | undefined;
  const either = (name: string, variable: string): [string | undefined, string] =>
    flag(name) !== undefined ? [flag(name), `--${name}`] : [environment[variable], variable];

  const [portText, portName] = either('port', 'PORT');
  const [backendText, backendName] = either('backend', BACKEND_ENVIRONMENT_VARIABLE);
  let backend: BackendName = 'auto';
  if (backendText !== undefined && backendText.trim() !== '') {
    try {
      backend = parseBackendName(backendText, backendName);
    } catch (error) {
      throw new ConfigurationError((error as Error).message);
    }
  }
  const [modelText] = either('model', 'MODEL');
  const modelPath = modelText && modelText.trim() !== '' ? modelText : DEFAULT_MODEL_PATH;
  if (!existsSync(modelPath)) throw new ConfigurationError(`model: ${modelPath} does not exist`);
  const [classifierText, classifierName] = either('classifier', 'CLASSIFIER');
  let classifierPath: string | null;
  if (classifierText === undefined || classifierText.trim() === '') {
    classifierPath = existsSync(DEFAULT_CLASSIFIER_PATH) ? DEFAULT_CLASSIFIER_PATH : null;
  } else if (classifierText === 'none') {
    classifierPath = null;
  } else {
    if (!existsSync(classifierText)) throw new ConfigurationError(`${classifierName}: ${classifierText} does not exist`);
    classifierPath = classifierText;
  }
  const maxBatch = integer(...either('max-batch', 'MAX_BATCH'), 32, 1, 4096);
  const maxQueue = integer(...either('max-queue', 'MAX_QUEUE'), Math.max(256, maxBatch), 1, 1_000_000);
  if (maxQueue < maxBatch) throw new ConfigurationError(`max-queue (${maxQueue}) must be at least max-batch (${maxBatch})`);
  return {
    port: integer(portText, portName, 8080, 0, 65535),
    host: (flag('host') ?? environment['HOST'] ?? '').trim() || '127.0.0.1',
    backend,
    modelPath,
    classifierPath,
    maxBatch,
    maxQueue,
    batchWindowMilliseconds: number(...either('batch-window-ms', 'BATCH_WINDOW_MS'), 15, 0, 10_000),
    maxBodyBytes: integer(flag('max-body-bytes'), '--max-body-bytes', 64 * 1024, 1024, 64 * 1024 * 1024),
  };
}
