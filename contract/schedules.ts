// Schedules as Redis holds them: our index (id → record, contract/keys.ts `schedules`) and BullMQ's
// job scheduler of the same id in the function's queue, read in BullMQ's own layout
// (bullmq/dist/cjs/commands/updateJobScheduler-12.lua) so that `photons status` and the dashboard
// read them without a queue object. See ARCHITECTURE.md, "Schedules".
import { photonsKeys, queueName } from './keys';
import type { RedisClient } from './redis';

/** What a schedule is: the function, when it fires (every ms, or cron in tz), with which input. */
interface ScheduleSpec {
  fn: string;
  every?: number;
  cron?: string;
  tz?: string;
  input: unknown;
  paused: boolean;
  createdAt: number;
}

/** What the index holds per id; the live part (next run, last run) is BullMQ's. */
export interface ScheduleRecord extends ScheduleSpec {
  /** Firings and last start from before the last pause: BullMQ forgets a scheduler it removes. */
  runsBefore: number;
  lastRunBefore: number | null;
}

/** A schedule as the client, the API, the CLI and the dashboard show it. */
export interface ScheduleInfo extends ScheduleSpec {
  id: string;
  /** When the next firing is due (ms since the epoch); null while paused. */
  nextRunAt: number | null;
  /** When the last firing started; null before the first. */
  lastRunAt: number | null;
  /** Firings started so far. */
  runs: number;
}

/** How a table shows when a schedule fires. */
export function describeTiming(s: Pick<ScheduleSpec, 'every' | 'cron' | 'tz'>): string {
  return s.every !== undefined ? `every ${s.every} ms` : `cron ${s.cron}${s.tz ? ` (${s.tz})` : ''}`;
}

/**
 * A schedule's record joined with its BullMQ scheduler. The scheduler's score in the queue's
 * `repeat` set is the next firing's time, its `ic` the firings created (the first at set time);
 * BullMQ creates the next firing when a worker starts the current one, so the pending firing's
 * `timestamp` is when the last one started.
 */
export async function scheduleInfo(redis: RedisClient, prefix: string, id: string, record: ScheduleRecord): Promise<ScheduleInfo> {
  const { fn, every, cron, tz, input, paused, createdAt, runsBefore, lastRunBefore } = record;
  const timing = every !== undefined ? { every } : { cron, ...(tz ? { tz } : {}) };
  const info: ScheduleInfo = { id, fn, ...timing, input, paused, createdAt, nextRunAt: null, lastRunAt: lastRunBefore, runs: runsBefore };
  if (paused) return info;
  const queue = `${prefix}:${queueName(fn, redis.isCluster)}`;
  const [score, created] = await Promise.all([redis.zscore(`${queue}:repeat`, id), redis.hget(`${queue}:repeat:${id}`, 'ic')]);
  if (score === null) return info;
  info.nextRunAt = Number(score);
  const started = Math.max(0, Number(created ?? 1) - 1);
  info.runs = runsBefore + started;
  if (started > 0) {
    const at = await redis.hget(`${queue}:repeat:${id}:${score}`, 'timestamp');
    if (at) info.lastRunAt = Number(at);
  }
  return info;
}

/** Every schedule, by id. */
export async function readSchedules(redis: RedisClient, prefix: string): Promise<ScheduleInfo[]> {
  const all = await redis.hgetall(photonsKeys(prefix).schedules);
  const ids = Object.keys(all).sort();
  return Promise.all(ids.map((id) => scheduleInfo(redis, prefix, id, JSON.parse(all[id]!) as ScheduleRecord)));
}
