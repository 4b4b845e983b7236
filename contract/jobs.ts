// Reads jobs straight from their BullMQ hashes, many at once in one pipeline: the record that
// outlives BullMQ's trimmed event stream, so no result is missed however many jobs a run has.
import type { RedisClient } from './redis';
import { ErrorCodes, type SerializedError } from '../errors';
import { parseFailedReason } from './wire';

/** The outcome of one job or one item of a chunk. */
export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; error: SerializedError };

export type JobSnapshot =
  /** No such hash: never enqueued, removed (cancelled) or expired. */
  | { exists: false }
  /** Waiting, delayed, active or between attempts. */
  | { exists: true; finished: false }
  | { exists: true; finished: true; outcome: Outcome };

const FIELDS = ['timestamp', 'finishedOn', 'returnvalue', 'failedReason', 'stacktrace'] as const;

/** One pipelined HMGET per job key; the order of the answer is the order of `keys`. */
export async function readJobs(redis: RedisClient, keys: string[]): Promise<JobSnapshot[]> {
  if (keys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hmget(key, ...FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, fields]) => {
    if (err) throw err;
    return snapshotOf(fields as Array<string | null>);
  });
}

export function snapshotOf([timestamp, finishedOn, returnvalue, failedReason, stacktrace]: Array<string | null>): JobSnapshot {
  if (timestamp === null) return { exists: false };
  if (!finishedOn) return { exists: true, finished: false };
  // A job that failed an attempt and then succeeded keeps its failedReason: the return value decides.
  if (returnvalue !== null) return { exists: true, finished: true, outcome: { ok: true, value: parseValue(returnvalue) } };
  const { code, message } = parseFailedReason(failedReason ?? 'the job failed without a reason');
  const error: SerializedError = { code, message };
  const stack = lastStack(stacktrace);
  if (stack) error.stack = stack;
  return { exists: true, finished: true, outcome: { ok: false, error } };
}

function parseValue(raw: string): unknown {
  // BullMQ stores a handler's undefined as an empty string.
  if (raw === '') return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function lastStack(raw: string | null): string | undefined {
  if (!raw) return undefined;
  try {
    const stacks = JSON.parse(raw) as unknown;
    return Array.isArray(stacks) && typeof stacks[stacks.length - 1] === 'string' ? (stacks[stacks.length - 1] as string) : undefined;
  } catch {
    return undefined;
  }
}

export function cancelledError(what: string): SerializedError {
  return { code: ErrorCodes.CANCELLED, message: `${what} was cancelled before it ran.` };
}

export function goneError(what: string): SerializedError {
  return {
    code: ErrorCodes.JOB_NOT_FOUND,
    message: `${what} is no longer in Redis: its result expired (producer.resultTtlSec) or the job was removed.`,
  };
}
