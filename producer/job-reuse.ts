// A job id sent again: the same job (same function, same input) is answered as it is, another one
// is refused. Inputs compare as JSON values: key order does not matter (JSON objects have none).
import { ErrorCodes, PhotonsError } from '../errors';

/** One function's queue: its name and how to read the stored data of the job id, if any. */
export interface QueueSlot {
  fn: string;
  read(): Promise<string | null>;
}

/**
 * True if a job of this id holds this function and input; false if there is none; throws
 * PHOTONS_ERR_JOB_EXISTS if one holds another function or input. Every function's queue is looked
 * at: GET /jobs/{id} without fn finds a job by id alone, so an id names one job.
 */
export async function holdsSameJob(slots: QueueSlot[], fn: string, jobId: string, data: unknown): Promise<boolean> {
  // One read each, not a pipeline: on a cluster the queues sit on different shards.
  const stored = await Promise.all(slots.map((slot) => slot.read()));
  const found = stored.findIndex((raw) => raw !== null);
  if (found < 0) return false;
  if (slots[found]!.fn !== fn) {
    throw new PhotonsError(ErrorCodes.JOB_EXISTS, `Job ${jobId} already exists for the function "${slots[found]!.fn}", not "${fn}": pick another job id.`);
  }
  let same = false;
  try {
    same = sameJson(JSON.parse(stored[found]!) as unknown, data);
  } catch {
    same = false;
  }
  if (!same) {
    throw new PhotonsError(
      ErrorCodes.JOB_EXISTS,
      `Job ${jobId} of "${fn}" already exists with another input: reusing a job id returns the existing job only for the same input. Pick another job id, or read the existing job with result("${jobId}").`,
    );
  }
  return true;
}

/** Whether two JSON values are the same value; with its own stack, as stored data may nest deep. */

export function sameJson(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      x.forEach((item: unknown, i) => stack.push([item, y[i]]));
      continue;
    }
    const xs = Object.entries(x as Record<string, unknown>).filter(([, v]) => v !== undefined);
    const ys = y as Record<string, unknown>;
    if (xs.length !== Object.values(ys).filter((v) => v !== undefined).length) return false;
    for (const [key, value] of xs) {
      if (!Object.prototype.hasOwnProperty.call(ys, key)) return false;
      stack.push([value, ys[key]]);
    }
  }
  return true;
}
