import { randomUUID } from 'node:crypto';
import type { BatchScheduler } from './batch-scheduler.js';
import { RequestError } from './request-error.js';
import type { JobError, JobView, SampleBackend } from './sample-backend.js';
import type { SampleRequest } from './sample-request.js';
import type { SampleOutcome } from './sample-result.js';

export interface InProcessBackendOptions {
  readonly scheduler: BatchScheduler;
  /** Finished jobs kept for GET /v1/jobs/:id (oldest dropped first; default 1000). */
  readonly maxFinishedJobs?: number;
}

interface JobRecord {
  state: JobView['state'];
  progress: JobView['progress'];
  readonly request: SampleRequest;
  result?: SampleOutcome;
  error?: JobError;
}

/** The error a failed request records: its status, message and field. */
export function jobErrorOf(error: unknown): JobError {
  if (error instanceof RequestError) return { status: error.status, error: error.message, ...(error.field ? { field: error.field } : {}) };
  return { status: 500, error: error instanceof Error ? error.message : String(error) };
}

/** Samples in this process through a BatchScheduler; asynchronous jobs are kept in memory. */
export function createInProcessBackend(options: InProcessBackendOptions): SampleBackend {
  const { scheduler } = options;
  const maxFinishedJobs = options.maxFinishedJobs ?? 1000;
  const jobs = new Map<string, JobRecord>();
  const finished: string[] = [];

  function finish(id: string): void {
    finished.push(id);
    while (finished.length > maxFinishedJobs) jobs.delete(finished.shift() as string);
  }

  return {
    mode: 'in-process',
    limits: scheduler.limits,
    sample: (request, sampleOptions = {}) => scheduler.submit(request, sampleOptions.signal ? { signal: sampleOptions.signal } : {}),
    async createJob(request) {
      const id = randomUUID();
      const record: JobRecord = { state: 'waiting', progress: null, request };
      const done = scheduler.submit(request, {
        onProgress: (step, totalSteps) => {
          record.state = 'active';
          record.progress = { step, totalSteps };
        },
      });
      // a full queue or a closed scheduler refuses at once: the job is not created
      await Promise.race([done.then(() => undefined), new Promise((resolve) => setImmediate(resolve))]);
      jobs.set(id, record);
      done.then(
        (result) => {
          record.state = 'completed';
          record.result = result;
          finish(id);
        },
        (error: unknown) => {
          record.state = 'failed';
          record.error = jobErrorOf(error);
          finish(id);
        },
      );
      return id;
    },
    async getJob(id) {
      const record = jobs.get(id);
      if (record === undefined) return undefined;
      return {
        id,
        state: record.state,
        progress: record.progress,
        request: record.request,
        ...(record.result ? { result: record.result } : {}),
        ...(record.error ? { error: record.error } : {}),
        attempts: record.state === 'waiting' ? 0 : 1,
      };
    },
    async health() {
      const models = scheduler.modelHealth();
      const status = scheduler.status();
      const ok = !status.closed && Object.values(models).every((model) => model.ok);
      return { ok, details: { models, scheduler: status } };
    },
    async queueDepth() {
      const status = scheduler.status();
      return { waiting: status.queuedRequests, active: status.runningRequests };
    },
    close: () => scheduler.close(),
  };
}
