import type { DiffusionModel, NoiseSchedule, NoisyClassifier } from '@tfjs-diffusion/core';
import { drawBatch } from './draw-batch.js';
import { HttpError } from './http-error.js';
import { requestLabels, type SampleRequest, type SampleRequestLimits } from './sample-request.js';
import { compatibilityKey } from './sampling-settings.js';

export interface SampleServiceOptions {
  readonly model: DiffusionModel;
  /** The model's training schedule (T timesteps); requests respace it to their steps. */
  readonly schedule: NoiseSchedule;
  /** The shape of one sample, e.g. [28, 28, 1]. */
  readonly dataShape: readonly number[];
  /** The noise-aware classifier for guidance 'classifier' (absent: that guidance is refused). */
  readonly classifier?: NoisyClassifier;
  /** The most samples in one network call (default 32); also the most one request may ask for. */
  readonly maxBatch?: number;
  /** The most samples that may wait (not counting the batch running); more gives 429 (default 256). */
  readonly maxQueue?: number;
  /** How long the first request of an idle service waits for others to join its batch (default 15 ms). */
  readonly batchWindowMilliseconds?: number;
  /** Awaited after each sampling step; default: yield to the event loop, so HTTP is served between steps. */
  readonly onStep?: () => Promise<void>;
}

/** What one request gets back. */
export interface SampleResult {
  readonly request: SampleRequest;
  /** NHWC values in [-1, 1], classes.length * perClass samples, row by row. */
  readonly samples: Float32Array;
  /** The class label of each sample. */
  readonly labels: Int32Array;
  /** [samples, ...dataShape]. */
  readonly shape: readonly number[];
  /** The batch it was sampled in: its number, and how many requests and samples it held. */
  readonly batch: { readonly id: number; readonly requests: number; readonly samples: number };
  /** Time spent waiting in the queue, and sampling. */
  readonly waitMilliseconds: number;
  readonly samplingMilliseconds: number;
}

export interface SampleServiceStatus {
  readonly queuedRequests: number;
  readonly queuedSamples: number;
  readonly runningRequests: number;
  readonly runningSamples: number;
  /** Batches sampled so far. */
  readonly batches: number;
  /** Calls of the denoiser's predict so far (one per step and batch; classifier-free guidance doubles the batch, not the calls). */
  readonly networkCalls: number;
  /** True once close() was called: new requests are refused. */
  readonly closed: boolean;
}

/** Collects compatible requests into batches, samples each batch in one network call per step, and splits the results. */
export interface SampleService {
  /** What requests are checked against (parseSampleRequest). */
  readonly limits: SampleRequestLimits;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly batchWindowMilliseconds: number;
  /** Queues a request; rejects with HttpError 429 when the queue is full, 503 after close(). */
  submit(request: SampleRequest): Promise<SampleResult>;
  status(): SampleServiceStatus;
  /** Refuses new requests and resolves once every queued and running request is done. */
  close(): Promise<void>;
}

interface PendingRequest {
  readonly request: SampleRequest;
  readonly key: string;
  readonly labels: Int32Array;
  readonly queuedAt: number;
  readonly resolve: (result: SampleResult) => void;
  readonly reject: (error: unknown) => void;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A batching sampler: the first request of an idle service waits `batchWindowMilliseconds` for
 * others; while a batch runs, new requests wait and go together in the next one. Requests share a
 * batch when sampler, steps, eta, karras, guidance and scale agree (oldest first, up to maxBatch
 * samples); each keeps its own noise (see createBatchNoiseSource), so its samples do not depend
 * on its batch.
 */
export function createSampleService(options: SampleServiceOptions): SampleService {
  const maxBatch = positiveInteger(options.maxBatch ?? 32, 'maxBatch');
  const maxQueue = positiveInteger(options.maxQueue ?? 256, 'maxQueue');
  if (maxQueue < maxBatch) throw new RangeError(`maxQueue (${maxQueue}) must be at least maxBatch (${maxBatch})`);
  const batchWindowMilliseconds = options.batchWindowMilliseconds ?? 15;
  if (!Number.isFinite(batchWindowMilliseconds) || batchWindowMilliseconds < 0) {
    throw new RangeError(`batchWindowMilliseconds must be a number >= 0, got ${batchWindowMilliseconds}`);
  }
  const onStep = options.onStep ?? yieldToEventLoop;
  const { schedule, dataShape, classifier } = options;

  let networkCalls = 0;
  const base = options.model;
  const model: DiffusionModel = {
    prediction: base.prediction,
    variance: base.variance,
    conditioning: base.conditioning,
    predict(input) {
      networkCalls += 1;
      return base.predict(input);
    },
  };

  const conditioning = base.conditioning;
  const numClasses = conditioning?.numClasses ?? null;
  const limits: SampleRequestLimits = {
    numClasses,
    timesteps: schedule.timesteps.length,
    maxSamples: maxBatch,
    ...(conditioning === null || conditioning.nullClass === null
      ? { cfgUnavailable: 'the loaded model was not trained with a null class (label dropout)' }
      : {}),
    ...(classifier === undefined
      ? { classifierUnavailable: 'the server runs without a noise-aware classifier' }
      : numClasses === null || classifier.numClasses !== numClasses
        ? { classifierUnavailable: `the classifier has ${classifier.numClasses} classes, the model ${numClasses ?? 'none'}` }
        : {}),
  };

  let queue: PendingRequest[] = [];
  let running: PendingRequest[] = [];
  let batches = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let timerImmediate = false;
  let averageBatchMilliseconds = 1000;
  const idleWaiters: (() => void)[] = [];

  const samplesOf = (entries: readonly PendingRequest[]): number => entries.reduce((sum, entry) => sum + entry.labels.length, 0);

  function notifyIfIdle(): void {
    if (queue.length > 0 || running.length > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  /** Starts the next batch after the collection window, or at once (after a batch, when full, when closing). */
  function scheduleNext(immediately: boolean): void {
    if (running.length > 0 || queue.length === 0) return;
    const now = immediately || closed || batchWindowMilliseconds === 0 || samplesOf(queue) >= maxBatch;
    if (timer !== undefined && (timerImmediate || !now)) return;
    if (timer !== undefined) clearTimeout(timer);
    timerImmediate = now;
    timer = setTimeout(
      () => {
        timer = undefined;
        void runBatch();
      },
      now ? 0 : batchWindowMilliseconds,
    );
  }

  async function runBatch(): Promise<void> {
    if (running.length > 0 || queue.length === 0) return;
    // the oldest request decides the settings; compatible ones join in arrival order while they fit
    const key = (queue[0] as PendingRequest).key;
    const chosen: PendingRequest[] = [];
    let samples = 0;
    for (const entry of queue) {
      if (entry.key === key && samples + entry.labels.length <= maxBatch) {
        chosen.push(entry);
        samples += entry.labels.length;
      }
    }
    queue = queue.filter((entry) => !chosen.includes(entry));
    running = chosen;
    batches += 1;
    const id = batches;
    const started = performance.now();
    try {
      const outputs = await drawBatch({
        model,
        ...(classifier ? { classifier } : {}),
        schedule,
        dataShape,
        settings: (chosen[0] as PendingRequest).request,
        parts: chosen.map((entry) => ({ labels: entry.labels, seed: entry.request.seed })),
        onStep,
      });
      const samplingMilliseconds = performance.now() - started;
      averageBatchMilliseconds = 0.7 * averageBatchMilliseconds + 0.3 * samplingMilliseconds;
      chosen.forEach((entry, index) => {
        entry.resolve({
          request: entry.request,
          samples: outputs[index] as Float32Array,
          labels: entry.labels,
          shape: [entry.labels.length, ...dataShape],
          batch: { id, requests: chosen.length, samples },
          waitMilliseconds: started - entry.queuedAt,
          samplingMilliseconds,
        });
      });
    } catch (error) {
      for (const entry of chosen) entry.reject(error);
    } finally {
      running = [];
      notifyIfIdle();
      // the requests that arrived during this batch have waited already: they go together now
      scheduleNext(true);
    }
  }

  function retryAfterSeconds(): number {
    const batchesAhead = Math.ceil(samplesOf(queue) / maxBatch) + (running.length > 0 ? 1 : 0);
    return Math.min(3600, Math.max(1, Math.ceil((batchesAhead * averageBatchMilliseconds) / 1000)));
  }

  return {
    limits,
    maxBatch,
    maxQueue,
    batchWindowMilliseconds,
    submit(request) {
      if (closed) return Promise.reject(new HttpError(503, 'the server is shutting down; no new requests are accepted', { headers: { Connection: 'close' } }));
      const labels = requestLabels(request);
      if (labels.length > maxBatch) {
        return Promise.reject(new HttpError(400, `perClass: ${labels.length} samples exceed the ${maxBatch} one request may ask for`, { field: 'perClass' }));
      }
      const queued = samplesOf(queue);
      if (queued + labels.length > maxQueue) {
        const seconds = retryAfterSeconds();
        return Promise.reject(
          new HttpError(429, `the queue is full (${queued} samples waiting, at most ${maxQueue}); retry after ${seconds} s`, {
            headers: { 'Retry-After': String(seconds) },
          }),
        );
      }
      return new Promise<SampleResult>((resolve, reject) => {
        queue.push({ request, key: compatibilityKey(request), labels, queuedAt: performance.now(), resolve, reject });
        scheduleNext(false);
      });
    },
    status() {
      return {
        queuedRequests: queue.length,
        queuedSamples: samplesOf(queue),
        runningRequests: running.length,
        runningSamples: samplesOf(running),
        batches,
        networkCalls,
        closed,
      };
    },
    close() {
      closed = true;
      scheduleNext(true);
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIfIdle();
      });
    },
  };
}
