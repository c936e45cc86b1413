import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the queue holds now, however it is kept (in process or in Redis). */
export interface QueueDepth {
  /** Requests (jobs) waiting. */
  readonly waiting: number;
  /** Requests (jobs) being sampled. */
  readonly active: number;
}

/** The Prometheus metrics of a server or worker (prom-client), all in one registry. */
export interface ServingMetrics {
  readonly registry: Registry;
  /** Images per batch (one network call per step). */
  readonly batchSize: Histogram;
  /** Seconds per network call (one sampling step of a batch). */
  readonly stepSeconds: Histogram;
  /** Seconds from a request's arrival to its answer, by mode and outcome. */
  readonly requestSeconds: Histogram<'mode' | 'status'>;
  /** Images sampled. */
  readonly samples: Counter;
  /** Failed requests by kind (validation, too-large, queue-full, timeout, client-gone, sampling, ...). */
  readonly errors: Counter<'kind'>;
  /** Counts images for the samples-per-second gauge (over the last minute). */
  recordSamples(count: number): void;
}

export interface ServingMetricsOptions {
  /** Read at every scrape: the queue depth gauge. */
  readonly queueDepth?: () => QueueDepth | Promise<QueueDepth>;
  /** Adds prom-client's default process metrics (CPU, memory, event-loop lag); default true. */
  readonly processMetrics?: boolean;
  /** Metric name prefix (default tfjs_diffusion_). */
  readonly prefix?: string;
}

const SAMPLES_WINDOW_SECONDS = 60;

/** Creates the serving metrics in a fresh registry; /metrics answers `registry.metrics()`. */
export function createServingMetrics(options: ServingMetricsOptions = {}): ServingMetrics {
  const prefix = options.prefix ?? 'tfjs_diffusion_';
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  const batchSize = new Histogram({
    name: `${prefix}batch_size`,
    help: 'Images per batch (one network call per sampling step).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers,
  });
  const stepSeconds = new Histogram({
    name: `${prefix}step_seconds`,
    help: 'Seconds per network call (one sampling step of a batch).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const requestSeconds = new Histogram({
    name: `${prefix}request_seconds`,
    help: 'Seconds from the arrival of a sampling request to its answer.',
    labelNames: ['mode', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const samples = new Counter({ name: `${prefix}samples_total`, help: 'Images sampled.', registers });
  const errors = new Counter({ name: `${prefix}errors_total`, help: 'Failed requests by kind.', labelNames: ['kind'] as const, registers });
  const recent: { at: number; count: number }[] = [];
  const prune = (now: number): void => {
    while (recent.length > 0 && (recent[0] as { at: number }).at < now - SAMPLES_WINDOW_SECONDS * 1000) recent.shift();
  };
  new Gauge({
    name: `${prefix}samples_per_second`,
    help: `Images sampled per second over the last ${SAMPLES_WINDOW_SECONDS} s.`,
    registers,
    collect() {
      const now = Date.now();
      prune(now);
      this.set(recent.reduce((sum, entry) => sum + entry.count, 0) / SAMPLES_WINDOW_SECONDS);
    },
  });
  const queueDepth = options.queueDepth;
  if (queueDepth !== undefined) {
    new Gauge({
      name: `${prefix}queue_depth`,
      help: 'Sampling requests (jobs) in the queue, by state: waiting or active (being sampled).',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const depth = await queueDepth();
        this.set({ state: 'waiting' }, depth.waiting);
        this.set({ state: 'active' }, depth.active);
      },
    });
  }
  return {
    registry,
    batchSize,
    stepSeconds,
    requestSeconds,
    samples,
    errors,
    recordSamples(count) {
      const now = Date.now();
      recent.push({ at: now, count });
      prune(now);
    },
  };
}
