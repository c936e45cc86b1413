import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { RequestError } from './request-error.js';
import { decodeJobError, type JobState, type SampleBackend } from './sample-backend.js';
import type { SampleRequest, SampleRequestLimits } from './sample-request.js';
import { decodeSampleOutcome, type EncodedSampleOutcome } from './sample-result.js';
import { compatibilityKey } from './sampling-settings.js';
import { DEFAULT_QUEUE_NAME, heartbeatPrefix, redisConnection } from './redis-connection.js';
import type { WorkerHeartbeat } from './queue-worker.js';

/** What a queued job carries: the request body with model and seed fixed, so that any worker draws the same images. */
export interface SampleJobData {
  readonly body: Record<string, unknown>;
  readonly request: SampleRequest;
}

export interface QueueBackendOptions {
  /** redis://HOST:PORT */
  readonly url: string;
  readonly queueName?: string;
  /** The served models (read from the same files as the workers') and --max-batch. */
  readonly limits: SampleRequestLimits;
  /** The most jobs waiting; more gives 429 with Retry-After (default 256). */
  readonly maxQueue?: number;
  /** How long POST /v1/samples waits for its job; then 504 naming the job (default 120 s). */
  readonly jobTimeoutMilliseconds?: number;
  /** Finished jobs kept in Redis for GET /v1/jobs/:id (default: 1 hour, at most 1000). */
  readonly keepFinishedSeconds?: number;
}

/** The body a worker re-checks: the request's fields, with the unconditional model's implied classes left out. */
export function jobBody(request: SampleRequest, limits: SampleRequestLimits): Record<string, unknown> {
  const model = limits.models.find((entry) => entry.name === request.model);
  const { classes, ...rest } = request;
  return model?.numClasses === null ? rest : { ...rest, classes };
}

/**
 * The HTTP API's side of distributed sampling: every request becomes a BullMQ job on Redis; any
 * worker (createQueueWorker) samples it. A sync request waits for its job (QueueEvents) with a
 * timeout; jobs run at most once more when a worker dies (stalled-job recovery, maxStalledCount 1).
 */
export function createQueueBackend(options: QueueBackendOptions): SampleBackend {
  const connection = redisConnection(options.url);
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const maxQueue = options.maxQueue ?? 256;
  const jobTimeoutMilliseconds = options.jobTimeoutMilliseconds ?? 120_000;
  const keepSeconds = options.keepFinishedSeconds ?? 3600;
  const queue = new Queue<SampleJobData, EncodedSampleOutcome>(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  const { limits } = options;
  const stepTimes: number[] = [];
  let closed = false;

  async function retryAfterSeconds(): Promise<number> {
    const waiting = await queue.getJobs(['waiting', 'prioritized'], 0, maxQueue);
    const groups = new Map<string, { images: number; steps: number }>();
    for (const job of waiting) {
      const request = job.data.request;
      const key = compatibilityKey(request);
      const group = groups.get(key) ?? { images: 0, steps: request.steps };
      group.images += request.classes.length * request.perClass;
      groups.set(key, group);
    }
    let steps = 0;
    for (const group of groups.values()) steps += Math.ceil(group.images / limits.maxSamples) * group.steps;
    const workers = Math.max(1, await queue.getWorkersCount());
    const sorted = [...stepTimes].sort((a, b) => a - b);
    const stepSeconds = sorted.length === 0 ? 0.1 : (sorted[Math.floor(sorted.length / 2)] as number);
    return Math.min(3600, Math.max(1, Math.ceil((steps * stepSeconds) / workers)));
  }

  async function add(request: SampleRequest): Promise<Job<SampleJobData, EncodedSampleOutcome>> {
    if (closed)
      throw new RequestError(503, 'the server is shutting down; no new requests are accepted', {
        headers: { Connection: 'close' },
        kind: 'shutting-down',
      });
    const waiting = await queue.getWaitingCount();
    if (waiting >= maxQueue) {
      const seconds = await retryAfterSeconds();
      throw new RequestError(429, `the queue is full (${waiting} jobs waiting, at most ${maxQueue}); retry after ${seconds} s`, {
        headers: { 'Retry-After': String(seconds) },
        kind: 'queue-full',
      });
    }
    return queue.add(
      'sample',
      { body: jobBody(request, limits), request },
      {
        jobId: randomUUID(),
        attempts: 1,
        removeOnComplete: { age: keepSeconds, count: 1000 },
        removeOnFail: { age: keepSeconds, count: 1000 },
      },
    );
  }

  function asRequestError(error: unknown): RequestError {
    if (error instanceof RequestError) return error;
    const decoded = decodeJobError(error instanceof Error ? error.message : String(error));
    return new RequestError(decoded.status, decoded.error, {
      ...(decoded.field ? { field: decoded.field } : {}),
      kind: decoded.status === 400 ? 'validation' : 'sampling',
    });
  }

  return {
    mode: 'queue',
    limits,
    async sample(request, sampleOptions = {}) {
      let timer: NodeJS.Timeout | undefined;
      let id = '(not yet enqueued: Redis did not answer)';
      // the timeout covers enqueueing too: while Redis is unreachable, commands wait for it
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RequestError(504, `job ${id} did not finish within ${jobTimeoutMilliseconds / 1000} s; GET /v1/jobs/${id} follows it`, {
                kind: 'timeout',
              }),
            ),
          jobTimeoutMilliseconds,
        );
      });
      const signal = sampleOptions.signal;
      let onAbort: (() => void) | undefined;
      const run = async (): Promise<EncodedSampleOutcome> => {
        const job = await add(request);
        id = job.id as string;
        const gone = new Promise<never>((_, reject) => {
          onAbort = () => {
            // a waiting job leaves the queue; one a worker has taken finishes there (its result is kept for GET /v1/jobs/:id)
            void job.remove().catch(() => undefined);
            reject(new RequestError(499, 'the client closed the connection; the job was dropped if no worker had taken it', { kind: 'client-gone' }));
          };
          if (signal?.aborted) onAbort();
          else signal?.addEventListener('abort', onAbort, { once: true });
        });
        gone.catch(() => undefined);
        return Promise.race([job.waitUntilFinished(events), gone]);
      };
      try {
        const encoded = await Promise.race([run(), timeout]);
        const outcome = decodeSampleOutcome(encoded);
        stepTimes.push(outcome.samplingMilliseconds / 1000 / Math.max(1, outcome.request.steps));
        if (stepTimes.length > 20) stepTimes.shift();
        return outcome;
      } catch (error) {
        throw asRequestError(error);
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    },
    async createJob(request) {
      const job = await add(request);
      return job.id as string;
    },
    async getJob(id) {
      const job = await queue.getJob(id);
      if (job === undefined || job === null) return undefined;
      const state = (await job.getState()) as JobState;
      const progress =
        typeof job.progress === 'object' && job.progress !== null && 'step' in job.progress
          ? (job.progress as { step: number; totalSteps: number })
          : null;
      return {
        id,
        state,
        progress,
        request: job.data.request,
        ...(state === 'completed' && job.returnvalue ? { result: decodeSampleOutcome(job.returnvalue) } : {}),
        ...(state === 'failed' && job.failedReason ? { error: decodeJobError(job.failedReason) } : {}),
        attempts: job.attemptsStarted ?? job.attemptsMade,
      };
    },
    async health() {
      const details: Record<string, unknown> = { queue: queueName };
      try {
        const client = await queue.client;
        const started = performance.now();
        await client.get(`${heartbeatPrefix(queueName)}ping`);
        details['redis'] = { ok: true, pingMilliseconds: Math.round((performance.now() - started) * 10) / 10 };
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, found] = await client.scan(cursor, { MATCH: `${heartbeatPrefix(queueName)}*`, COUNT: 100 });
          keys.push(...found);
          cursor = next;
        } while (cursor !== '0');
        const beats = (await Promise.all(keys.map((key) => client.get(key))))
          .filter((text): text is string => text !== null)
          .map((text) => JSON.parse(text) as WorkerHeartbeat);
        details['workers'] = beats;
        const models: Record<string, { workers: number; ok: boolean; error?: string }> = {};
        for (const model of limits.models) {
          const serving = beats.filter((beat) => beat.models[model.name] !== undefined);
          const healthy = serving.filter((beat) => beat.models[model.name]?.ok);
          const error = serving.find((beat) => !beat.models[model.name]?.ok)?.models[model.name]?.error;
          models[model.name] = { workers: healthy.length, ok: healthy.length > 0, ...(error ? { error } : {}) };
        }
        details['models'] = models;
        details['jobs'] = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
        return { ok: !closed && Object.values(models).every((model) => model.ok), details };
      } catch (error) {
        details['redis'] = { ok: false, error: error instanceof Error ? error.message : String(error) };
        return { ok: false, details };
      }
    },
    async queueDepth() {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'active');
      return { waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0), active: counts['active'] ?? 0 };
    },
    async close() {
      closed = true;
      await events.close();
      await queue.close();
    },
  };
}
