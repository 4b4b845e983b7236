// The one rule for job ids a caller picks (client, HTTP API, admin board): BullMQ keeps a job's
// hash at <prefix>:<queue>:<jobId>, next to the queue's own keys at <prefix>:<queue>:<name>. An id
// equal to one of those names would overwrite the queue's wait list, its id counter or its event
// stream, and the queue would stop completing anything.
import { ErrorCodes, PhotonsError } from '../errors';

/** Longest id a caller may pick; GET /jobs/{id} reads ids this long (fastify's maxParamLength is above it). */
export const MAX_CUSTOM_JOB_ID_LENGTH = 128;
/** Longest id of any job, BullMQ's own integer ids and our generated ones included. */
export const MAX_JOB_ID_LENGTH = 200;

/**
 * The names of a BullMQ queue's own keys (bullmq/dist/cjs/classes/queue-keys.js getKeys, the keys
 * its Lua scripts build from the queue prefix, the metrics and legacy priority keys), plus the
 * suffixes BullMQ appends to a job's key. Compared case-sensitively, as Redis compares keys.
 */
export const RESERVED_JOB_IDS: ReadonlySet<string> = new Set([
  'active', 'wait', 'waiting-children', 'paused', 'id', 'delayed', 'prioritized', 'stalled-check', 'completed', 'failed',
  'stalled', 'repeat', 'limiter', 'meta', 'events', 'pc', 'marker', 'de', 'dn', 'priority', 'metrics',
  'lock', 'logs', 'data', 'dependencies', 'processed', 'unsuccessful',
]);

const CUSTOM_JOB_ID = new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_CUSTOM_JOB_ID_LENGTH}}$`);

/** What is wrong with `id` as a caller's job id, or undefined if nothing is. */
export function customJobIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || !CUSTOM_JOB_ID.test(id)) return `a job id of 1 to ${MAX_CUSTOM_JOB_ID_LENGTH} letters, digits, '.', '_' or '-'`;
  // BullMQ numbers its own jobs from the queue's id counter: an integer id could meet one of them.
  if (/^\d+$/.test(id)) return 'a job id that is not only digits (BullMQ numbers its own jobs)';
  if (RESERVED_JOB_IDS.has(id)) return `a job id other than the names of BullMQ's queue keys (${[...RESERVED_JOB_IDS].join(', ')})`;
  return undefined;
}

/** Throws PHOTONS_ERR_INVALID_OPTION (as every bad option) unless `id` may be a caller's job id. */
export function assertCustomJobId(id: unknown, where: string): asserts id is string {
  const problem = customJobIdProblem(id);
  if (problem) throw new PhotonsError(ErrorCodes.INVALID_OPTION, `${where} must be ${problem}, got ${describeId(id)}. Pick another id, or leave it out for a random one.`);
}

function describeId(id: unknown): string {
  const text = JSON.stringify(id) ?? String(id);
  return text.length > 60 ? `${text.slice(0, 57)}... (${typeof id === 'string' ? `${id.length} characters` : typeof id})` : text;
}
