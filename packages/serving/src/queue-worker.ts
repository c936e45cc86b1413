import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import type { BatchScheduler, ModelHealth } from './batch-scheduler.js';
import { jobErrorOf } from './in-process-backend.js';
import { encodeJobError } from './sample-backend.js';
import { parseSampleRequest } from './sample-request.js';
import { encodeSampleOutcome, type EncodedSampleOutcome } from './sample-result.js';
import type { SampleJobData } from './queue-backend.js';
import { DEFAULT_QUEUE_NAME, heartbeatPrefix, redisConnection } from './redis-connection.js';

/** What a worker writes to Redis every heartbeat (read by the API's /healthz). */
export interface WorkerHeartbeat {
  readonly worker: string;
  readonly at: string;
  readonly models: Readonly<Record<string, ModelHealth>>;
  readonly batches: number;
}

export interface QueueWorkerOptions {
  /** redis://HOST:PORT */
  readonly url: string;
  readonly queueName?: string;
  /** Samples the jobs: compatible jobs taken together share one network call per step. */
  readonly scheduler: BatchScheduler;
  /** Jobs taken at once (default: the scheduler's maxBatch): what one batch can hold. */
  readonly concurrency?: number;
  /** How long a job's lock lasts without renewal; a worker silent that long (killed) loses its jobs to another (default 30 s). */
  readonly lockDurationMilliseconds?: number;
  /** How often workers look for jobs whose lock expired (default 30 s). */
  readonly stalledIntervalMilliseconds?: number;
  /** How often this worker reports its models' health to Redis (default 5 s; the report lives 3 times that). */
  readonly heartbeatMilliseconds?: number;
  /** The worker's name in results and heartbeats (default host:pid). */
  readonly name?: string;
  readonly log?: { info: (object: object, message: string) => void; warn: (object: object, message: string) => void };
}

export interface QueueWorker {
  readonly name: string;
  readonly worker: Worker<SampleJobData, EncodedSampleOutcome>;
  /** Stops taking jobs, finishes the ones taken, stops the heartbeat and closes the connections. */
  close(): Promise<void>;
}

/**
 * A BullMQ worker that samples jobs through a BatchScheduler: it takes up to `concurrency` jobs
 * at once and the scheduler batches the compatible ones into one network call per step. Each
 * job's seed was fixed by the API, so whichever worker runs it draws the same images. A worker
 * killed mid-job stops renewing its locks; after lockDuration another worker's stalled check
 * moves the job back to waiting, at most once (maxStalledCount 1), and it is sampled again.
 */
export async function createQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { scheduler } = options;
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const lockDuration = options.lockDurationMilliseconds ?? 30_000;
  const heartbeatMilliseconds = options.heartbeatMilliseconds ?? 5000;
  const worker = new Worker<SampleJobData, EncodedSampleOutcome>(
    queueName,
    async (job) => {
      let request;
      try {
        request = parseSampleRequest(job.data.body, scheduler.limits);
      } catch (error) {
        throw new Error(encodeJobError(jobErrorOf(error)));
      }
      options.log?.info(
        { job: job.id, model: request.model, images: request.classes.length * request.perClass, attempt: job.attemptsStarted },
        'job taken',
      );
      try {
        const result = await scheduler.submit(request, {
          onProgress: (step, totalSteps) => {
            job.updateProgress({ step, totalSteps }).catch(() => undefined);
          },
        });
        return encodeSampleOutcome({ ...result, worker: name, attempt: job.attemptsStarted });
      } catch (error) {
        throw new Error(encodeJobError(jobErrorOf(error)));
      }
    },
    {
      connection: redisConnection(options.url),
      concurrency: options.concurrency ?? scheduler.maxBatch,
      lockDuration,
      stalledInterval: options.stalledIntervalMilliseconds ?? 30_000,
      maxStalledCount: 1,
      name,
    },
  );
  worker.on('error', (error) => options.log?.warn({ error: error.message }, 'worker error'));
  const client = await worker.client;
  const key = `${heartbeatPrefix(queueName)}${name}`;
  const beat = async (): Promise<void> => {
    const heartbeat: WorkerHeartbeat = {
      worker: name,
      at: new Date().toISOString(),
      models: scheduler.modelHealth(),
      batches: scheduler.status().batches,
    };
    await client.set(key, JSON.stringify(heartbeat), { PX: heartbeatMilliseconds * 3 });
  };
  await beat();
  const timer = setInterval(() => {
    beat().catch((error: unknown) => options.log?.warn({ error: error instanceof Error ? error.message : String(error) }, 'heartbeat failed'));
  }, heartbeatMilliseconds);
  timer.unref();
  await worker.waitUntilReady();
  return {
    name,
    worker,
    async close() {
      clearInterval(timer);
      await client.del(key).catch(() => undefined);
      await worker.close();
      await scheduler.close();
    },
  };
}
