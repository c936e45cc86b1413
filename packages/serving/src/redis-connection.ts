import type { ConnectionOptions } from 'bullmq';

/** The default BullMQ queue name of sampling jobs. */
export const DEFAULT_QUEUE_NAME = 'tfjs-diffusion-samples';

/**
 * BullMQ connection options for a redis:// (or rediss://) URL; maxRetriesPerRequest null as
 * BullMQ workers require, so a Redis restart makes commands wait and reconnect, not fail.
 */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`--queue must be a redis://HOST:PORT URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new RangeError(`--queue must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  return { url, maxRetriesPerRequest: null };
}

/** The Redis key prefix of the workers' heartbeats for a queue. */
export function heartbeatPrefix(queueName: string): string {
  return `tfjs-diffusion:${queueName}:worker:`;
}
