// The whole fleet as Redis sees it: every dispatcher's heartbeat and every function queue's counts.
// `photons status`, the dashboard and /metrics read it; nothing here needs a dispatcher nearby.
import { Queue } from 'bullmq';
import { mergeDurations, type DispatcherStats, type DurationHistogram, type MemoryStats, type TimedPoolStats } from './heartbeat';
import { photonsKeys, queueName } from './keys';
import type { RedisClient } from './redis';

export interface DispatcherStatus {
  id: string;
  host: string;
  pid: number;
  version: string;
  mode: string;
  heartbeatAgeMs: number;
  /** No heartbeat for more than two periods: the dispatcher is probably gone. */
  stale: boolean;
  /** Its memory budget, what its runtimes hold and which functions wait for it; absent from older dispatchers. */
  memory?: MemoryStats;
  /** Functions whose queue workers run now; absent from older dispatchers. */
  fetching?: number;
}

export interface FunctionStatus {
  fn: string;
  /** Set when the function does not bundle: its jobs fail with this. */
  error?: string;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  /** Jobs answered per second over the last minute, over every dispatcher. */
  jobsPerSec: number;
  runtimes: number;
  photonsInFlight: number;
  /** Photons in flight of each runtime, over every dispatcher. */
  photonsPerRuntime: number[];
  heapPerRuntime: number[];
  /** Measured heap per photon in flight, averaged over the runtimes that measured it (bytes). */
  heapPerPhoton: number;
  /** Heap of a runtime right after the function loaded, averaged (bytes). */
  runtimeBaseHeap: number;
  coldStarts: number;
  runtimeDeaths: number;
  /** Jobs the live dispatchers' runtimes answered since those dispatchers started (never decreases while they run). */
  photonsCompleted: number;
  photonsFailed: number;
  /** Time from a job reaching a dispatcher's runtime pool to its answer, over every dispatcher that reports it. */
  durations?: DurationHistogram;
}

export interface FleetStatus {
  at: number;
  dispatchers: DispatcherStatus[];
  functions: FunctionStatus[];
}

export async function readFleet(redis: RedisClient, prefix: string, heartbeatMs: number): Promise<FleetStatus> {
  const now = Date.now();
  const heartbeats = await readHeartbeats(redis, prefix);
  const registry = await redis.hgetall(photonsKeys(prefix).functions);
  const names = new Set([...Object.keys(registry), ...heartbeats.flatMap((h) => h.functions.map((f) => f.fn))]);
  // A dispatcher younger than a minute answered its jobs in less than a minute: its rate is over
  // the time it has run, or a fresh fleet would report a fraction of its real throughput.
  const pools = heartbeats.flatMap((h) => h.functions.map((f): CountedPool => ({ ...f, windowSec: Math.min(60, Math.max(1, (h.at - h.startedAt) / 1000)) })));
  // Grouped once: with thousands of functions on each of many dispatchers, a scan per function adds up.
  const poolsOf = new Map<string, CountedPool[]>();
  for (const pool of pools) poolsOf.set(pool.fn, [...(poolsOf.get(pool.fn) ?? []), pool]);
  const functions = await Promise.all([...names].sort().map((fn) => functionStatus(redis, prefix, fn, registry[fn], poolsOf.get(fn) ?? [])));
  return {
    at: now,
    dispatchers: heartbeats
      .map((h) => ({
        id: h.id,
        host: h.host,
        pid: h.pid,
        version: h.version,
        mode: h.functions[0]?.mode ?? '',
        heartbeatAgeMs: now - h.at,
        stale: now - h.at > 2 * heartbeatMs,
        memory: h.memory,
        fetching: h.fetching,
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    functions,
  };
}

/** A function's stats in one heartbeat, with the seconds its answeredLastMinute spans. */
type CountedPool = TimedPoolStats & { windowSec: number };

/**
 * Every live dispatcher's heartbeat: the ids from the roll, then each one's own key. No SCAN and
 * no MGET, which on a cluster would miss the other shards or span slots.
 */
export async function readHeartbeats(redis: RedisClient, prefix: string): Promise<DispatcherStats[]> {
  const keys = photonsKeys(prefix);
  const ids = await redis.zrangebyscore(keys.dispatcherRoll, Date.now(), '+inf');
  const values = await Promise.all(ids.map((id) => redis.get(keys.heartbeat(id))));
  return values.flatMap((value) => {
    if (!value) return [];
    try {
      return [JSON.parse(value) as DispatcherStats];
    } catch {
      return [];
    }
  });
}

async function functionStatus(
  redis: RedisClient,
  prefix: string,
  fn: string,
  registryEntry: string | undefined,
  pools: CountedPool[],
): Promise<FunctionStatus> {
  const queue = new Queue(queueName(fn, redis.isCluster), { connection: redis, prefix });
  try {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused');
    const runtimes = pools.flatMap((p) => p.runtimes);
    const measured = runtimes.filter((r) => r.heapPerPhoton > 0);
    const loaded = runtimes.filter((r) => r.baseHeap > 0);
    let error: string | undefined;
    if (registryEntry) {
      try {
        error = (JSON.parse(registryEntry) as { error?: { message: string } }).error?.message;
      } catch {
        error = undefined;
      }
    }
    return {
      fn,
      error,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      jobsPerSec: Number(pools.reduce((sum, p) => sum + p.answeredLastMinute / p.windowSec, 0).toFixed(2)),
      runtimes: runtimes.length,
      photonsInFlight: runtimes.reduce((sum, r) => sum + r.photons, 0),
      photonsPerRuntime: runtimes.map((r) => r.photons),
      heapPerRuntime: runtimes.map((r) => r.heapUsed),
      heapPerPhoton: average(measured.map((r) => r.heapPerPhoton)),
      runtimeBaseHeap: average(loaded.map((r) => r.baseHeap)),
      coldStarts: pools.reduce((sum, p) => sum + p.coldStarts, 0),
      runtimeDeaths: pools.reduce((sum, p) => sum + p.runtimeDeaths, 0),
      photonsCompleted: pools.reduce((sum, p) => sum + p.completed, 0),
      photonsFailed: pools.reduce((sum, p) => sum + p.failed, 0),
      durations: mergeDurations(pools.map((p) => p.durations)),
    };
  } finally {
    await queue.close();
  }
}

function average(values: number[]): number {
  return values.length === 0 ? 0 : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}
