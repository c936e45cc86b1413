import type { SampleRequest, SampleRequestLimits } from './sample-request.js';
import type { SampleOutcome } from './sample-result.js';
import type { QueueDepth } from './serving-metrics.js';

/** BullMQ's job states, plus 'unknown' (in process: never). */
export type JobState = 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'active' | 'completed' | 'failed' | 'unknown';

/** An error as a job records it: the HTTP status it maps to, the message, the field at fault. */
export interface JobError {
  readonly status: number;
  readonly error: string;
  readonly field?: string;
}

/** What GET /v1/jobs/:id reports. */
export interface JobView {
  readonly id: string;
  readonly state: JobState;
  /** The last step reported by the batch the job is in; null before it starts. */
  readonly progress: { readonly step: number; readonly totalSteps: number } | null;
  readonly request: SampleRequest;
  readonly result?: SampleOutcome;
  readonly error?: JobError;
  /** How many times a worker picked the job up (2 after a worker died and another retried it). */
  readonly attempts: number;
}

/** What the HTTP API needs from whatever samples: this process (BatchScheduler) or queue workers (BullMQ). */
export interface SampleBackend {
  readonly mode: 'in-process' | 'queue';
  readonly limits: SampleRequestLimits;
  /** Samples a request and resolves when it is done (RequestError 429, 503, 504, 499 on a client gone). */
  sample(request: SampleRequest, options?: { signal?: AbortSignal }): Promise<SampleOutcome>;
  /** Queues a request as a job and resolves with its id at once. */
  createJob(request: SampleRequest): Promise<string>;
  getJob(id: string): Promise<JobView | undefined>;
  /** ok: every model can sample (in process: its last batch or start-up probe worked; queued: Redis answers and a live worker reports the model ok). */
  health(): Promise<{ readonly ok: boolean; readonly details: Record<string, unknown> }>;
  queueDepth(): Promise<QueueDepth>;
  /** Finishes what was accepted (in process) or stops waiting (queued), then frees connections. */
  close(): Promise<void>;
}

/** A job error as one JSON string (BullMQ keeps a failed job's reason as text). */
export function encodeJobError(error: JobError): string {
  return JSON.stringify(error);
}

/** The inverse of encodeJobError; any other text is a 500 with that message. */
export function decodeJobError(text: string): JobError {
  try {
    const parsed = JSON.parse(text) as Partial<JobError>;
    if (typeof parsed.status === 'number' && typeof parsed.error === 'string')
      return { status: parsed.status, error: parsed.error, ...(typeof parsed.field === 'string' ? { field: parsed.field } : {}) };
  } catch {
    // not ours: a plain message
  }
  return { status: 500, error: text };
}
