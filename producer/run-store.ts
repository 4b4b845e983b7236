// A run's metadata in Redis (the hash PhotonsKeys.run(runId), contract/keys.ts, expiring with its results):
// enough for another process to find the run's chunk jobs and resume it after a crash.
import type { RedisClient } from '../contract/redis';
import type { RunState } from './types';

export interface RunMeta {
  runId: string;
  fn: string;
  chunkSize: number;
  state: RunState;
  /** Chunks enqueued: chunk i holds items [i * chunkSize, (i + 1) * chunkSize). */
  enqueuedChunks: number;
  enqueuedItems: number;
  /** Known once every input has been enqueued (or the run stopped). */
  total: number | null;
  createdAt: number;
  /** The enqueuing process writes this while it runs; a stale one means it died. */
  heartbeatAt: number;
  ttlSec: number;
  /** Last counts written by the process reading the results. */
  done: number;
  failed: number;
  /** A map-reduce run: the function whose one job reduces the results, and whether a failed item stops the run. */
  reduce?: string;
  failFast?: boolean;
  /** When the reduce job was first added: a reduce job gone after that is not added again. */
  reduceAddedAt?: number;
}

/** Runs the dashboard can list. */
export const RECENT_RUNS = 100;

/** An enqueuing process silent this long is taken for dead. */
export const HEARTBEAT_STALE_MS = 15_000;

export class RunStore {
  constructor(
    private readonly redis: () => Promise<RedisClient>,
    private readonly keyOf: (runId: string) => string,
    /** PhotonsKeys.recentRuns: where new runs are listed for the dashboard. */
    private readonly recentKey?: string,
  ) {}

  async create(meta: RunMeta): Promise<boolean> {
    const redis = await this.redis();
    const key = this.keyOf(meta.runId);
    const [[, created]] = (await redis.multi().hsetnx(key, 'runId', meta.runId).exec()) as [[Error | null, number]];
    if (created !== 1) return false;
    await this.update(meta.runId, meta, meta.ttlSec);
    if (this.recentKey) {
      // The newest RECENT_RUNS only; entries of expired runs are dropped by whoever lists them.
      await redis
        .multi()
        .zadd(this.recentKey, meta.createdAt, meta.runId)
        .zremrangebyrank(this.recentKey, 0, -RECENT_RUNS - 1)
        .expire(this.recentKey, meta.ttlSec)
        .exec();
    }
    return true;
  }

  /** The newest runs still in Redis, newest first. */
  async recent(limit: number): Promise<RunMeta[]> {
    if (!this.recentKey) return [];
    const redis = await this.redis();
    const ids = await redis.zrevrange(this.recentKey, 0, limit - 1);
    const metas = await Promise.all(ids.map((id) => this.load(id)));
    const gone = ids.filter((_, i) => !metas[i]);
    if (gone.length > 0) await redis.zrem(this.recentKey, ...gone);
    return metas.filter((meta): meta is RunMeta => meta !== undefined);
  }

  async load(runId: string): Promise<RunMeta | undefined> {
    const raw = await (await this.redis()).hgetall(this.keyOf(runId));
    if (!raw.fn) return undefined;
    const num = (name: string): number => Number(raw[name] ?? 0);
    return {
      runId,
      fn: raw.fn,
      chunkSize: num('chunkSize'),
      state: raw.state as RunState,
      enqueuedChunks: num('enqueuedChunks'),
      enqueuedItems: num('enqueuedItems'),
      total: raw.total === undefined || raw.total === '' ? null : Number(raw.total),
      createdAt: num('createdAt'),
      heartbeatAt: num('heartbeatAt'),
      ttlSec: num('ttlSec'),
      done: num('done'),
      failed: num('failed'),
      ...(raw.reduce ? { reduce: raw.reduce, failFast: raw.failFast === 'true' } : {}),
      ...(raw.reduceAddedAt ? { reduceAddedAt: Number(raw.reduceAddedAt) } : {}),
    };
  }

  /** Writes the given fields and pushes the expiry to `ttlSec` from now. */
  async update(runId: string, fields: Partial<RunMeta>, ttlSec: number): Promise<void> {
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined) flat[name] = value === null ? '' : String(value);
    }
    const key = this.keyOf(runId);
    await (await this.redis()).multi().hset(key, flat).expire(key, ttlSec).exec();
  }
}
