// Schedules: a function's job fired on a fixed interval or a cron expression, kept by BullMQ's job
// schedulers in the function's queue. Ids are one namespace across functions, so an index of our
// own (contract/keys.ts, `schedules`) says which queue holds each one, and keeps a paused schedule,
// which BullMQ has no notion of. See ARCHITECTURE.md, "Schedules".
import type { JobsOptions, Queue } from 'bullmq';
import { parseExpression } from 'cron-parser';
import { MAX_SCHEDULE_EVERY_MS, MIN_SCHEDULE_EVERY_MS, SCHEDULE_ID_PATTERN, SCHEDULE_ID_RULE } from '../contract/rules';
import type { RedisClient } from '../contract/redis';
import { readSchedules, scheduleInfo, type ScheduleInfo, type ScheduleRecord } from '../contract/schedules';
import { ErrorCodes, PhotonsError } from '../errors';

const SCHEDULE_ID = new RegExp(SCHEDULE_ID_PATTERN);

export type { ScheduleInfo };

/** When a schedule fires: every `every` ms, or at the times of a cron expression (in `tz`, default UTC). */
export type ScheduleTiming = { every: number } | { cron: string; tz?: string };

export interface ScheduleDeps {
  redis: () => Promise<RedisClient>;
  prefix: string;
  /** The index key (PhotonsKeys.schedules). */
  key: string;
  queue: (fn: string) => Queue;
  /** Options of every firing's job (how long its result is kept). */
  jobOptions: () => JobsOptions;
}

export class Schedules {
  constructor(private readonly deps: ScheduleDeps) {}

  /** Creates or replaces schedule `id` (running, even if it was paused): the function, timing and input are checked first. */
  async set(id: string, fn: string, timing: ScheduleTiming, input: unknown): Promise<ScheduleInfo> {
    const redis = await this.deps.redis();
    const previous = await this.record(redis, id);
    // A schedule moved to another function leaves the queue of the old one.
    if (previous && previous.fn !== fn) await this.deps.queue(previous.fn).removeJobScheduler(id);
    const record: ScheduleRecord = {
      fn,
      ...('every' in timing ? { every: timing.every } : { cron: timing.cron, ...(timing.tz ? { tz: timing.tz } : {}) }),
      input,
      paused: false,
      createdAt: previous?.createdAt ?? Date.now(),
      runsBefore: previous?.fn === fn ? previous.runsBefore : 0,
      lastRunBefore: previous?.fn === fn ? previous.lastRunBefore : null,
    };
    // The index first: a scheduler BullMQ holds is always one the index knows, and can be removed.
    await redis.hset(this.deps.key, id, JSON.stringify(record));
    await this.start(id, record);
    return this.info(id, record);
  }

  async list(): Promise<ScheduleInfo[]> {
    return readSchedules(await this.deps.redis(), this.deps.prefix);
  }

  async get(id: string): Promise<ScheduleInfo> {
    assertScheduleId(id);
    return this.info(id, await this.require(await this.deps.redis(), id));
  }

  /** Removes the schedule; firings already started run to their end. */
  async remove(id: string): Promise<void> {
    assertScheduleId(id);
    const redis = await this.deps.redis();
    const record = await this.require(redis, id);
    await this.deps.queue(record.fn).removeJobScheduler(id);
    await redis.hdel(this.deps.key, id);
  }

  /** Stops the firings and keeps the schedule: BullMQ's scheduler (and its pending firing) goes, our record stays. */
  async pause(id: string): Promise<ScheduleInfo> {
    assertScheduleId(id);
    const redis = await this.deps.redis();
    const record = await this.require(redis, id);
    if (!record.paused) {
      const { runs, lastRunAt } = await this.info(id, record);
      Object.assign(record, { paused: true, runsBefore: runs, lastRunBefore: lastRunAt });
      await this.deps.queue(record.fn).removeJobScheduler(id);
      await redis.hset(this.deps.key, id, JSON.stringify(record));
    }
    return this.info(id, record);
  }

  /** Fires again from now: an `every` schedule at once, a cron one at its next time. */
  async resume(id: string): Promise<ScheduleInfo> {
    assertScheduleId(id);
    const redis = await this.deps.redis();
    const record = await this.require(redis, id);
    if (record.paused) {
      record.paused = false;
      await redis.hset(this.deps.key, id, JSON.stringify(record));
      await this.start(id, record);
    }
    return this.info(id, record);
  }

  private async start(id: string, record: ScheduleRecord): Promise<void> {
    const repeat = record.every !== undefined ? { every: record.every } : { pattern: record.cron!, tz: record.tz ?? 'UTC' };
    await this.deps.queue(record.fn).upsertJobScheduler(id, repeat, { name: record.fn, data: record.input, opts: this.deps.jobOptions() });
  }

  private async info(id: string, record: ScheduleRecord): Promise<ScheduleInfo> {
    return scheduleInfo(await this.deps.redis(), this.deps.prefix, id, record);
  }

  private async record(redis: RedisClient, id: string): Promise<ScheduleRecord | undefined> {
    const raw = await redis.hget(this.deps.key, id);
    return raw ? (JSON.parse(raw) as ScheduleRecord) : undefined;
  }

  private async require(redis: RedisClient, id: string): Promise<ScheduleRecord> {
    const record = await this.record(redis, id);
    if (!record) throw new PhotonsError(ErrorCodes.SCHEDULE_NOT_FOUND, `No schedule "${id}": list them with \`photons schedule list\` or GET /schedules.`);
    return record;
  }
}

export function assertScheduleId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    throw new PhotonsError(ErrorCodes.INVALID_SCHEDULE, `${JSON.stringify(id) ?? String(id)} is not a valid schedule id: use ${SCHEDULE_ID_RULE}.`);
  }
}

/** Checks a timing before anything reaches Redis; a cron expression with BullMQ's own parser. */
export function checkTiming(timing: unknown): ScheduleTiming {
  const bad = (why: string): PhotonsError => new PhotonsError(ErrorCodes.INVALID_SCHEDULE, why);
  if (typeof timing !== 'object' || timing === null || Array.isArray(timing)) throw bad('A schedule needs { every: <ms> } or { cron: "<expression>", tz? }.');
  const { every, cron, tz, ...rest } = timing as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw bad(`Unknown schedule option "${unknown[0]}": the options are every, or cron and tz.`);
  if ((every === undefined) === (cron === undefined))
    throw bad('A schedule has either every (an interval in ms) or cron (an expression), not both nor neither.');
  if (every !== undefined) {
    if (tz !== undefined) throw bad('tz goes with cron only: an every schedule counts milliseconds, not clock times.');
    if (!Number.isInteger(every) || (every as number) < MIN_SCHEDULE_EVERY_MS || (every as number) > MAX_SCHEDULE_EVERY_MS) {
      throw bad(`every must be an integer number of ms from ${MIN_SCHEDULE_EVERY_MS} to ${MAX_SCHEDULE_EVERY_MS} (a year), got ${JSON.stringify(every)}.`);
    }
    return { every: every as number };
  }
  if (typeof cron !== 'string' || cron.trim() === '' || cron.length > 256)
    throw bad(`cron must be a cron expression such as "*/5 * * * *", got ${JSON.stringify(cron)}.`);
  if (tz !== undefined && (typeof tz !== 'string' || !isTimeZone(tz))) {
    throw bad(`tz must be an IANA time zone such as "Europe/Paris" or "UTC", got ${JSON.stringify(tz)}.`);
  }
  // cron-parser fills missing fields with "*", so "* * *" would fire every second: count them.
  const fields = cron.trim().split(/\s+/).length;
  if (!(fields === 5 || fields === 6 || (fields === 1 && cron.trim().startsWith('@'))))
    throw bad(
      `The cron expression ${JSON.stringify(cron)} is invalid (it has ${fields} field(s)): use five (minute hour day month weekday) or six with seconds first, e.g. "*/5 * * * *".`,
    );
  try {
    parseExpression(cron, tz ? { tz } : {}).next();
  } catch (err) {
    throw bad(
      `The cron expression ${JSON.stringify(cron)} is invalid (${(err as Error).message}): use five fields (minute hour day month weekday) or six with seconds first, e.g. "*/5 * * * *".`,
    );
  }
  return { cron, ...(tz ? { tz } : {}) };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
