// Which functions have limits, and which are being held back by them right now: read from the
// queue settings BullMQ obeys (global rate limit and concurrency in the queue's `meta`) and its
// limiter counter, for `photons status` and the dashboard. Dispatchers write them
// (dispatcher/queue-limits.ts). See ARCHITECTURE.md, "Per-function limits".
import { photonsKeys, queueLimiterKey, queueMetaKey, queueName } from './keys';
import type { RedisClient } from './redis';

export interface LimitStatus {
  fn: string;
  rateLimit: { max: number; durationMs: number } | null;
  maxConcurrency: number | null;
  /** Jobs of this function running now, across the fleet. */
  active: number;
  /** > 0 while the window's quota is spent: jobs wait this long more. */
  rateLimitedForMs: number;
  /** True while as many jobs run as maxConcurrency allows. */
  atMaxConcurrency: boolean;
}

/** The functions whose queue has a rate limit or a global concurrency that a dispatcher applied. */
export async function readLimits(redis: RedisClient, prefix: string): Promise<LimitStatus[]> {
  const fns = Object.keys(await redis.hgetall(photonsKeys(prefix).queueLimits)).sort();
  const all = await Promise.all(fns.map((fn) => limitStatus(redis, prefix, fn)));
  return all.filter((status) => status.rateLimit || status.maxConcurrency);
}

async function limitStatus(redis: RedisClient, prefix: string, fn: string): Promise<LimitStatus> {
  const cluster = redis.isCluster;
  const limiter = queueLimiterKey(prefix, fn, cluster);
  const [[concurrency, max, duration], count, ttl, active] = await Promise.all([
    redis.hmget(queueMetaKey(prefix, fn, cluster), 'concurrency', 'max', 'duration'),
    redis.get(limiter),
    redis.pttl(limiter),
    redis.llen(`${prefix}:${queueName(fn, cluster)}:active`),
  ]);
  const rateLimit = max && duration ? { max: Number(max), durationMs: Number(duration) } : null;
  const maxConcurrency = concurrency ? Number(concurrency) : null;
  return {
    fn,
    rateLimit,
    maxConcurrency,
    active,
    rateLimitedForMs: rateLimit && Number(count ?? 0) >= rateLimit.max && ttl > 0 ? ttl : 0,
    atMaxConcurrency: maxConcurrency !== null && active >= maxConcurrency,
  };
}
