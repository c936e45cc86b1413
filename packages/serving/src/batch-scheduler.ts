import { RequestError } from './request-error.js';
import { requestLabels, type SampleRequest, type SampleRequestLimits } from './sample-request.js';
import type { ServedModel } from './served-model.js';
import { compatibilityKey } from './sampling-settings.js';
import type { ServingMetrics } from './serving-metrics.js';

export interface BatchSchedulerOptions {
  /** The served models, by the names requests use. */
  readonly models: readonly ServedModel[];
  /** The most images in one network call (default 32); also the most one request may ask for. */
  readonly maxBatch?: number;
  /** The most images that may wait (not counting the batch running); more gives 429 (default 256). */
  readonly maxQueue?: number;
  /** How long the first request of an idle scheduler waits for others to join its batch (default 15 ms). */
  readonly batchWindowMilliseconds?: number;
  /** Awaited after each sampling step; default: yield to the event loop, so HTTP is served between steps. */
  readonly onStep?: () => Promise<void>;
  /** Seconds per network call assumed for Retry-After until batches have been timed (default 0.1). */
  readonly initialStepSeconds?: number;
  /** Where batch sizes, step and request latencies, images and errors are counted. */
  readonly metrics?: ServingMetrics;
}

/** What one request gets back. */
export interface SampleResult {
  readonly request: SampleRequest;
  /** NHWC values in [-1, 1], classes.length * perClass images, row by row. */
  readonly samples: Float32Array;
  /** The class label of each image. */
  readonly labels: Int32Array;
  /** [images, height, width, channels]. */
  readonly shape: readonly number[];
  /** The batch it was sampled in: its number (per process), and how many requests and images it held. */
  readonly batch: { readonly id: number; readonly requests: number; readonly samples: number };
  /** Time spent waiting in the queue, and sampling. */
  readonly waitMilliseconds: number;
  readonly samplingMilliseconds: number;
}

export interface SubmitOptions {
  /** Aborted when the client has gone: a queued request leaves the queue; a batch whose every request has gone stops. */
  readonly signal?: AbortSignal;
  /** Called after every step of the request's batch (1-based). */
  readonly onProgress?: (step: number, totalSteps: number) => void;
}

export interface BatchSchedulerStatus {
  readonly queuedRequests: number;
  readonly queuedSamples: number;
  readonly runningRequests: number;
  readonly runningSamples: number;
  /** Batches sampled so far. */
  readonly batches: number;
  /** Network calls (steps of batches) so far; classifier-free guidance doubles the batch, not the calls. */
  readonly networkCalls: number;
  /** Network calls still ahead: the queued batches' steps plus what the running batch has left. */
  readonly queuedSteps: number;
  /** The median measured seconds per network call (or the initial guess). */
  readonly stepSeconds: number;
  readonly closed: boolean;
}

/** Whether each model sampled its last batch (or the start-up probe) without error. */
export interface ModelHealth {
  readonly ok: boolean;
  readonly error?: string;
}

/** Collects compatible requests into batches, samples each batch in one network call per step, and splits the results. */
export interface BatchScheduler {
  readonly limits: SampleRequestLimits;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly batchWindowMilliseconds: number;
  /** Queues a request; rejects with RequestError 429 (Retry-After) when the queue is full, 503 after close(). */
  submit(request: SampleRequest, options?: SubmitOptions): Promise<SampleResult>;
  /** Seconds until the queued work is done, from the queued steps and the measured time per step (at least 1). */
  retryAfterSeconds(): number;
  status(): BatchSchedulerStatus;
  modelHealth(): Readonly<Record<string, ModelHealth>>;
  /** Samples one image in one step from every model; a model that fails is reported not ok by modelHealth. */
  probe(): Promise<void>;
  /** Refuses new requests and resolves once every queued and running request is done. */
  close(): Promise<void>;
}

interface PendingRequest {
  readonly request: SampleRequest;
  readonly key: string;
  readonly labels: Int32Array;
  readonly queuedAt: number;
  readonly options: SubmitOptions;
  gone: boolean;
  readonly resolve: (result: SampleResult) => void;
  readonly reject: (error: unknown) => void;
  detach?: () => void;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The median of a non-empty list. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function clientGone(): RequestError {
  return new RequestError(499, 'the client closed the connection; the request was dropped', { kind: 'client-gone' });
}

/**
 * A batching scheduler (dynamic batching as in inference servers): the first request of an idle
 * scheduler waits `batchWindowMilliseconds` for others; while a batch runs, new requests wait and
 * go together in the next one. Requests share a batch when model, sampler, steps, eta, karras,
 * guidance and scale agree (oldest first, up to maxBatch images); each keeps its own noise seed,
 * so its images do not depend on its batch. Retry-After is the queued work in network calls times
 * the median measured seconds per call, so one long request does not inflate it.
 */
export function createBatchScheduler(options: BatchSchedulerOptions): BatchScheduler {
  const maxBatch = positiveInteger(options.maxBatch ?? 32, 'maxBatch');
  const maxQueue = positiveInteger(options.maxQueue ?? 256, 'maxQueue');
  if (maxQueue < maxBatch) throw new RangeError(`maxQueue (${maxQueue}) must be at least maxBatch (${maxBatch})`);
  const batchWindowMilliseconds = options.batchWindowMilliseconds ?? 15;
  if (!Number.isFinite(batchWindowMilliseconds) || batchWindowMilliseconds < 0) {
    throw new RangeError(`batchWindowMilliseconds must be a number >= 0, got ${batchWindowMilliseconds}`);
  }
  if (options.models.length === 0) throw new RangeError('a batch scheduler needs at least one model');
  const models = new Map(options.models.map((model) => [model.description.name, model]));
  if (models.size !== options.models.length)
    throw new RangeError(`model names must be unique, got ${options.models.map((model) => model.description.name).join(', ')}`);
  const onStep = options.onStep ?? yieldToEventLoop;
  const metrics = options.metrics;
  const limits: SampleRequestLimits = { models: options.models.map((model) => model.description), maxSamples: maxBatch };
  const health: Record<string, ModelHealth> = Object.fromEntries(options.models.map((model) => [model.description.name, { ok: true }]));

  let queue: PendingRequest[] = [];
  let running: PendingRequest[] = [];
  let runningSteps = { done: 0, total: 0 };
  let batches = 0;
  let networkCalls = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let timerImmediate = false;
  const stepTimes: number[] = [];
  const initialStepSeconds = options.initialStepSeconds ?? 0.1;
  const idleWaiters: (() => void)[] = [];

  const samplesOf = (entries: readonly PendingRequest[]): number => entries.reduce((sum, entry) => sum + entry.labels.length, 0);
  const stepSeconds = (): number => (stepTimes.length === 0 ? initialStepSeconds : median(stepTimes));

  function queuedSteps(): number {
    const groups = new Map<string, { samples: number; steps: number }>();
    for (const entry of queue) {
      const group = groups.get(entry.key) ?? { samples: 0, steps: entry.request.steps };
      group.samples += entry.labels.length;
      groups.set(entry.key, group);
    }
    let steps = running.length > 0 ? runningSteps.total - runningSteps.done : 0;
    for (const group of groups.values()) steps += Math.ceil(group.samples / maxBatch) * group.steps;
    return steps;
  }

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
    const first = queue[0] as PendingRequest;
    const chosen: PendingRequest[] = [];
    let samples = 0;
    for (const entry of queue) {
      if (entry.key === first.key && samples + entry.labels.length <= maxBatch) {
        chosen.push(entry);
        samples += entry.labels.length;
      }
    }
    queue = queue.filter((entry) => !chosen.includes(entry));
    running = chosen;
    runningSteps = { done: 0, total: first.request.steps };
    batches += 1;
    const id = batches;
    const settings = first.request;
    const served = models.get(settings.model) as ServedModel;
    const controller = new AbortController();
    const stopIfAllGone = (): void => {
      if (chosen.every((entry) => entry.gone)) controller.abort(clientGone());
    };
    for (const entry of chosen) {
      entry.detach?.();
      entry.detach = entry.options.signal === undefined ? undefined : watch(entry, stopIfAllGone);
    }
    stopIfAllGone();
    metrics?.batchSize.observe(samples);
    const started = performance.now();
    let lastStep = started;
    try {
      const outputs = await served.generate(
        settings,
        chosen.map((entry) => ({ labels: entry.labels, seed: entry.request.seed })),
        {
          signal: controller.signal,
          onStep: async (step, totalSteps) => {
            const now = performance.now();
            networkCalls += 1;
            metrics?.stepSeconds.observe((now - lastStep) / 1000);
            lastStep = now;
            runningSteps = { done: step, total: totalSteps };
            for (const entry of chosen) if (!entry.gone) entry.options.onProgress?.(step, totalSteps);
            await onStep();
          },
        },
      );
      const samplingMilliseconds = performance.now() - started;
      stepTimes.push(samplingMilliseconds / 1000 / Math.max(1, runningSteps.total));
      if (stepTimes.length > 20) stepTimes.shift();
      health[settings.model] = { ok: true };
      metrics?.samples.inc(samples);
      metrics?.recordSamples(samples);
      chosen.forEach((entry, index) => {
        entry.detach?.();
        if (entry.gone) return;
        entry.resolve({
          request: entry.request,
          samples: outputs[index] as Float32Array,
          labels: entry.labels,
          shape: [entry.labels.length, ...served.description.dataShape],
          batch: { id, requests: chosen.length, samples },
          waitMilliseconds: started - entry.queuedAt,
          samplingMilliseconds,
        });
      });
    } catch (error) {
      const stoppedForGone = controller.signal.aborted;
      if (!stoppedForGone) {
        health[settings.model] = { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
      for (const entry of chosen) {
        entry.detach?.();
        if (!entry.gone) entry.reject(error);
      }
    } finally {
      running = [];
      notifyIfIdle();
      // the requests that arrived during this batch have waited already: they go together now
      scheduleNext(true);
    }
  }

  /** Marks the entry gone when its signal aborts; a queued entry leaves the queue at once. Returns the unsubscribe. */
  function watch(entry: PendingRequest, onGone: () => void): () => void {
    const signal = entry.options.signal as AbortSignal;
    const listener = (): void => {
      if (entry.gone) return;
      entry.gone = true;
      const index = queue.indexOf(entry);
      if (index >= 0) queue.splice(index, 1);
      entry.reject(clientGone());
      onGone();
      notifyIfIdle();
    };
    if (signal.aborted) queueMicrotask(listener);
    else signal.addEventListener('abort', listener, { once: true });
    return () => signal.removeEventListener('abort', listener);
  }

  function retryAfterSeconds(): number {
    return Math.min(3600, Math.max(1, Math.ceil(queuedSteps() * stepSeconds())));
  }

  function submit(request: SampleRequest, submitOptions: SubmitOptions = {}): Promise<SampleResult> {
    if (closed)
      return Promise.reject(
        new RequestError(503, 'the server is shutting down; no new requests are accepted', {
          headers: { Connection: 'close' },
          kind: 'shutting-down',
        }),
      );
    if (!models.has(request.model))
      return Promise.reject(new RequestError(400, `model: unknown model ${JSON.stringify(request.model)}`, { field: 'model' }));
    const labels = requestLabels(request);
    if (labels.length > maxBatch) {
      return Promise.reject(
        new RequestError(400, `perClass: ${labels.length} images exceed the ${maxBatch} one request may ask for`, { field: 'perClass' }),
      );
    }
    const queued = samplesOf(queue);
    if (queued + labels.length > maxQueue) {
      const seconds = retryAfterSeconds();
      return Promise.reject(
        new RequestError(429, `the queue is full (${queued} images waiting, at most ${maxQueue}); retry after ${seconds} s`, {
          headers: { 'Retry-After': String(seconds) },
          kind: 'queue-full',
        }),
      );
    }
    return new Promise<SampleResult>((resolve, reject) => {
      const entry: PendingRequest = {
        request,
        key: compatibilityKey(request),
        labels,
        queuedAt: performance.now(),
        options: submitOptions,
        gone: false,
        resolve,
        reject,
      };
      queue.push(entry);
      if (submitOptions.signal !== undefined) entry.detach = watch(entry, () => undefined);
      scheduleNext(false);
    });
  }

  return {
    limits,
    maxBatch,
    maxQueue,
    batchWindowMilliseconds,
    submit,
    retryAfterSeconds,
    status() {
      return {
        queuedRequests: queue.length,
        queuedSamples: samplesOf(queue),
        runningRequests: running.length,
        runningSamples: samplesOf(running),
        batches,
        networkCalls,
        queuedSteps: queuedSteps(),
        stepSeconds: stepSeconds(),
        closed,
      };
    },
    modelHealth: () => ({ ...health }),
    async probe() {
      await Promise.all(
        [...models.values()].map(async (served) => {
          const { name } = served.description;
          const request: SampleRequest = {
            model: name,
            classes: [0],
            perClass: 1,
            sampler: 'ddim',
            steps: 1,
            eta: 0,
            karras: false,
            guidance: 'none',
            scale: 0,
            seed: 0,
            format: 'json',
          };
          await submit(request).catch(() => undefined);
        }),
      );
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
