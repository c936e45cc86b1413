import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKEND_ENVIRONMENT_VARIABLE, parseBackendName } from '@tfjs-diffusion/backends';
import type { BackendName } from '@tfjs-diffusion/core';
import {
  DEFAULT_CLASSIFIER_PATH,
  DEFAULT_MODEL_PATH,
  parseModelSpecifications,
  redisConnection,
  type ModelSpecification,
} from '@tfjs-diffusion/serving';

/** Everything `main` needs to start a server, from flags and environment variables. */
export interface ServerConfiguration {
  readonly port: number;
  readonly host: string;
  readonly backend: BackendName;
  /** The served models; requests name one (the first is the default). */
  readonly models: readonly ModelSpecification[];
  /** null: no classifier guidance. */
  readonly classifierPath: string | null;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly batchWindowMilliseconds: number;
  readonly maxBodyBytes: number;
  /** redis://HOST:PORT: enqueue jobs for workers instead of sampling here; null: sample in process. */
  readonly queueUrl: string | null;
  readonly queueName: string;
  /** How long a sync request waits for its queued job (504 after). */
  readonly jobTimeoutMilliseconds: number;
  /** Most time to receive a request's headers, and its whole body. */
  readonly headersTimeoutMilliseconds: number;
  readonly requestTimeoutMilliseconds: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMilliseconds: number;
  readonly logLevel: string;
}

export const SERVER_USAGE = `usage: node apps/server/dist/main.js [options]   (or pnpm run server -- [options] from the repository root)

  --port N               port (env PORT, default 8080; 0 picks a free one)
  --host ADDRESS         interface (env HOST, default 127.0.0.1; 0.0.0.0 for every interface)
  --backend NAME         auto | tensorflow | webgpu | wasm | cpu (env ${BACKEND_ENVIRONMENT_VARIABLE}, default auto:
                         tfjs-node(-gpu) when installed, else WebGPU on a GPU through Dawn, else wasm)
  --model NAME=FILE      a model file to serve under NAME; repeat for several (env MODEL; a bare FILE is named
                         after the file; default mnist=models/mnist-unet.safetensors). Requests name the model.
  --classifier FILE|none noise-aware classifier for guidance "classifier", used by the models with as many
                         classes (env CLASSIFIER, default models/mnist-classifier.safetensors when present)
  --max-batch N          most images per network call, and per request (env MAX_BATCH, default 32)
  --max-queue N          most images waiting (with --queue: jobs waiting) before 429 (env MAX_QUEUE, default 256)
  --batch-window-ms MS   how long a first request waits for others to join (env BATCH_WINDOW_MS, default 15)
  --max-body-bytes N     largest request body; a larger Content-Length gets 413 at once (default 65536)
  --queue URL            redis://HOST:PORT: enqueue BullMQ jobs for 'tfjs-diffusion worker' processes instead
                         of sampling here (env QUEUE_URL)
  --queue-name NAME      BullMQ queue name (default tfjs-diffusion-samples)
  --job-timeout-ms MS    with --queue: how long POST /v1/samples waits for its job, then 504 (default 120000)
  --headers-timeout-ms MS   most time to receive the request headers (default 10000)
  --request-timeout-ms MS   most time to receive a whole request (default 30000)
  --keep-alive-timeout-ms MS  how long an idle connection stays open (default 5000)
  --log-level LEVEL      pino level: fatal, error, warn, info, debug, trace, silent (env LOG_LEVEL, default info)
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the --model values (or MODEL), checks that the files exist and the names are unique. */
export function readModelFlags(texts: readonly string[] | undefined, environmentValue: string | undefined): ModelSpecification[] {
  const given =
    texts && texts.length > 0 ? texts : environmentValue && environmentValue.trim() !== '' ? [environmentValue] : [`mnist=${DEFAULT_MODEL_PATH}`];
  let models: ModelSpecification[];
  try {
    models = parseModelSpecifications(given);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  for (const model of models) if (!existsSync(model.path)) throw new ConfigurationError(`model ${model.name}: ${model.path} does not exist`);
  return models;
}

/** Reads --classifier (or CLASSIFIER): a file, none, or the shipped MNIST classifier when present. */
export function readClassifierFlag(text: string | undefined, name: string): string | null {
  if (text === undefined || text.trim() === '') return existsSync(DEFAULT_CLASSIFIER_PATH) ? DEFAULT_CLASSIFIER_PATH : null;
  if (text === 'none') return null;
  if (!existsSync(text)) throw new ConfigurationError(`${name}: ${text} does not exist`);
  return text;
}

/** Reads flags (which win) and environment variables; returns 'help' for --help. */
export function parseServerConfiguration(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ServerConfiguration | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        backend: { type: 'string' },
        model: { type: 'string', multiple: true },
        classifier: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue': { type: 'string' },
        'batch-window-ms': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        queue: { type: 'string' },
        'queue-name': { type: 'string' },
        'job-timeout-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'keep-alive-timeout-ms': { type: 'string' },
        'log-level': { type: 'string' },
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
  const models = readModelFlags(values['model'] as string[] | undefined, environment['MODEL']);
  const classifierPath = readClassifierFlag(...either('classifier', 'CLASSIFIER'));
  const maxBatch = integer(...either('max-batch', 'MAX_BATCH'), 32, 1, 4096);
  const maxQueue = integer(...either('max-queue', 'MAX_QUEUE'), Math.max(256, maxBatch), 1, 1_000_000);
  if (maxQueue < maxBatch) throw new ConfigurationError(`max-queue (${maxQueue}) must be at least max-batch (${maxBatch})`);
  const [queueText, queueName] = either('queue', 'QUEUE_URL');
  let queueUrl: string | null = null;
  if (queueText !== undefined && queueText.trim() !== '') {
    try {
      redisConnection(queueText);
    } catch (error) {
      throw new ConfigurationError(`${queueName}: ${(error as Error).message}`);
    }
    queueUrl = queueText;
  }
  const [logLevelText, logLevelName] = either('log-level', 'LOG_LEVEL');
  const logLevel = (logLevelText ?? '').trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigurationError(`${logLevelName} must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  return {
    port: integer(portText, portName, 8080, 0, 65535),
    host: (flag('host') ?? environment['HOST'] ?? '').trim() || '127.0.0.1',
    backend,
    models,
    classifierPath,
    maxBatch,
    maxQueue,
    batchWindowMilliseconds: number(...either('batch-window-ms', 'BATCH_WINDOW_MS'), 15, 0, 10_000),
    maxBodyBytes: integer(flag('max-body-bytes'), '--max-body-bytes', 64 * 1024, 1024, 64 * 1024 * 1024),
    queueUrl,
    queueName: (flag('queue-name') ?? '').trim() || 'tfjs-diffusion-samples',
    jobTimeoutMilliseconds: integer(flag('job-timeout-ms'), '--job-timeout-ms', 120_000, 100, 3_600_000),
    headersTimeoutMilliseconds: integer(flag('headers-timeout-ms'), '--headers-timeout-ms', 10_000, 100, 600_000),
    requestTimeoutMilliseconds: integer(flag('request-timeout-ms'), '--request-timeout-ms', 30_000, 100, 3_600_000),
    keepAliveTimeoutMilliseconds: integer(flag('keep-alive-timeout-ms'), '--keep-alive-timeout-ms', 5000, 100, 600_000),
    logLevel,
  };
}
