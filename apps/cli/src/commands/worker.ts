import { existsSync } from 'node:fs';
import pino from 'pino';
import {
  DEFAULT_CLASSIFIER_PATH,
  DEFAULT_MODEL_PATH,
  createBatchScheduler,
  createQueueWorker,
  loadServedModels,
  parseModelSpecifications,
  redisConnection,
} from '@tfjs-diffusion/serving';
import { activateBackend, BACKEND_OPTION } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { integerOption, stringOption } from '../options.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const workerCommand: Command = {
  name: 'worker',
  summary: 'sample the jobs of a Redis queue (BullMQ) for an API started with --queue; runs until SIGTERM/SIGINT',
  usage: [
    'usage: tfjs-diffusion worker --queue redis://HOST:PORT [--model NAME=FILE ...] [options]',
    '',
    '  --queue URL              the Redis the API enqueues to (pnpm run serve -- --queue URL)',
    '  --model NAME=FILE        a model file to serve under NAME (repeat for several; the same names and files',
    '                           as the API; default mnist=models/mnist-unet.safetensors)',
    '  --classifier FILE|none   noise-aware classifier for guidance "classifier" (default the shipped MNIST one)',
    '  --max-batch N            most images per network call (default 32)',
    '  --concurrency N          jobs taken at once, batched together when compatible (default: --max-batch)',
    '  --batch-window-ms MS     how long a first job waits for others to join its batch (default 15)',
    '  --lock-duration-ms MS    a job whose worker is silent this long (killed) goes to another worker (default 30000)',
    '  --stalled-interval-ms MS how often to look for such jobs (default 30000)',
    '  --queue-name NAME        BullMQ queue name (default tfjs-diffusion-samples)',
    '  --log-level LEVEL        pino level on stderr (default info)',
    '  --backend NAME           tfjs backend (default auto)',
  ].join('\n'),
  options: {
    queue: { type: 'string' },
    model: { type: 'string', multiple: true },
    classifier: { type: 'string' },
    'max-batch': { type: 'string' },
    concurrency: { type: 'string' },
    'batch-window-ms': { type: 'string' },
    'lock-duration-ms': { type: 'string' },
    'stalled-interval-ms': { type: 'string' },
    'queue-name': { type: 'string' },
    'log-level': { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const url = stringOption(values, 'queue');
    if (url === undefined) throw new UsageError('--queue redis://HOST:PORT is required: the Redis the API enqueues to');
    try {
      redisConnection(url);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const modelTexts = (values['model'] as unknown as string[] | undefined) ?? [`mnist=${DEFAULT_MODEL_PATH}`];
    let specifications;
    try {
      specifications = parseModelSpecifications(modelTexts);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    for (const specification of specifications)
      if (!existsSync(specification.path)) throw new UsageError(`--model ${specification.name}: ${specification.path} does not exist`);
    const classifierText = stringOption(values, 'classifier');
    const classifierPath =
      classifierText === 'none' ? null : (classifierText ?? (existsSync(DEFAULT_CLASSIFIER_PATH) ? DEFAULT_CLASSIFIER_PATH : null));
    if (classifierPath !== null && !existsSync(classifierPath)) throw new UsageError(`--classifier: ${classifierPath} does not exist`);
    const maxBatch = integerOption(values, 'max-batch', 32, 1, 4096);
    const concurrency = integerOption(values, 'concurrency', maxBatch, 1, 4096);
    const batchWindowMilliseconds = integerOption(values, 'batch-window-ms', 15, 0, 10_000);
    const lockDurationMilliseconds = integerOption(values, 'lock-duration-ms', 30_000, 200, 3_600_000);
    const stalledIntervalMilliseconds = integerOption(values, 'stalled-interval-ms', 30_000, 100, 3_600_000);
    const logLevel = stringOption(values, 'log-level') ?? 'info';
    if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
    const log = pino({ level: logLevel, base: { service: 'tfjs-diffusion-worker', pid: process.pid } }, pino.destination(2));

    await activateBackend(values, io);
    const { models, dispose } = await loadServedModels(specifications, classifierPath, (served, specification) =>
      log.info(
        { model: specification.name, file: specification.path, shape: served.description.dataShape, numClasses: served.description.numClasses },
        'model loaded',
      ),
    );
    const scheduler = createBatchScheduler({ models, maxBatch, maxQueue: Math.max(maxBatch, concurrency), batchWindowMilliseconds });
    await scheduler.probe();
    for (const [name, health] of Object.entries(scheduler.modelHealth()))
      if (!health.ok) log.error({ model: name, error: health.error }, 'model cannot sample');
    const worker = await createQueueWorker({
      url,
      queueName: stringOption(values, 'queue-name') ?? 'tfjs-diffusion-samples',
      scheduler,
      concurrency,
      lockDurationMilliseconds,
      stalledIntervalMilliseconds,
      log,
    });
    log.info({ worker: worker.name, queue: url, models: models.map((model) => model.description.name), concurrency, maxBatch }, 'worker ready');
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        log.info({ signal }, 'finishing the jobs taken, then stopping');
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        process.once('SIGINT', () => process.exit(1));
        process.once('SIGTERM', () => process.exit(1));
        worker.close().then(resolve, (error: unknown) => {
          log.error({ err: error }, 'error while stopping');
          resolve();
        });
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    dispose();
    log.info('stopped');
  },
};
