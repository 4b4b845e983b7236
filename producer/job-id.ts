// The one rule for job ids a caller picks (client, HTTP API, admin board): BullMQ keeps a job's
// hash at <prefix>:<queue>:<jobId>, next to the queue's own keys at <prefix>:<queue>:<name>. An id
// equal to one of those names would overwrite the queue's wait list, its id counter or its event
// stream, and the queue would stop completing anything.
import { CUSTOM_JOB_ID_PATTERN, MAX_CUSTOM_JOB_ID_LENGTH, MAX_JOB_ID_LENGTH, RESERVED_JOB_IDS } from '../contract/rules';
import { ErrorCodes, PhotonsError } from '../errors';

// The lengths and reserved names are rules of the contract (contract/rules.ts), written there once.
export { MAX_CUSTOM_JOB_ID_LENGTH, MAX_JOB_ID_LENGTH, RESERVED_JOB_IDS };

const CUSTOM_JOB_ID = new RegExp(CUSTOM_JOB_ID_PATTERN);

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
  if (problem)
    throw new PhotonsError(ErrorCodes.INVALID_OPTION, `${where} must be ${problem}, got ${describeId(id)}. Pick another id, or leave it out for a random one.`);
}

function describeId(id: unknown): string {
  const text = JSON.stringify(id) ?? String(id);
  return text.length > 60 ? `${text.slice(0, 57)}... (${typeof id === 'string' ? `${id.length} characters` : typeof id})` : text;
}
