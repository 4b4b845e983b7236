// A map run's results as both sides read them: the producer while it follows the run, a dispatcher
// for a reduce job's ctx.results(). A run's items live in its chunk jobs (job id `<runId>.<chunk>`,
// chunk i holding items [i * chunkSize, (i + 1) * chunkSize)); its record (PhotonsKeys.run) says
// which function ran them and how many there are. See ARCHITECTURE.md, "Map-reduce".
import { ErrorCodes, PhotonsError, type SerializedError } from '../errors';
import { readJobs, type Outcome } from './jobs';
import { jobKey, photonsKeys } from './keys';
import type { RedisClient } from './redis';
import type { ChunkResult } from './wire';

/** One item's result in a run: `index` is its position in the inputs. */
export type ItemResult<T = unknown> = { index: number; ok: true; value: T } | { index: number; ok: false; error: SerializedError };

/** A page of a run's results in input order; `next` is the index to ask for next, null after the last. */
export interface ResultsPage {
  items: ItemResult[];
  next: number | null;
}

/** Results per page: a reducer of a million items reads them a thousand at a time. */
export const RESULTS_PAGE_ITEMS = 1_000;

/** The BullMQ job id of a run's chunk (a plain job when the chunk size is 1). */
export function chunkJobId(runId: string, chunk: number): string {
  return `${runId}.${chunk}`;
}

/** The job id of a run's reduce job: one per run, so adding it twice adds it once. */
export function reduceJobId(runId: string): string {
  return `${runId}.reduce`;
}

/** The input of a reduce job: which run to read with ctx.results(), and its counts. */
export interface ReduceInput {
  runId: string;
  fn: string;
  total: number;
  ok: number;
  failed: number;
}

/** The items of a chunk from its job's outcome: a chunk job failing as a whole fails each of its items. */
export function chunkItems(outcome: Outcome, count: number, chunked: boolean, jobId: string): Outcome[] {
  if (!chunked) return [outcome];
  if (!outcome.ok) return Array.from({ length: count }, () => outcome);
  const items = (outcome.value as Partial<ChunkResult> | null)?.items;
  if (Array.isArray(items) && items.length === count) return items;
  const error: SerializedError = {
    code: ErrorCodes.BAD_JOB,
    message: `Chunk job ${jobId} returned no per-item results for its ${count} items: is the dispatcher older than the producer?`,
  };
  return Array.from({ length: count }, () => ({ ok: false as const, error }));
}

export interface RunLocation {
  prefix: string;
  cluster: boolean;
}

/**
 * Items [from, from + about RESULTS_PAGE_ITEMS) of a finished run, in input order (whole chunks).
 * An item whose job is gone or not finished is a failure saying so: the reader never waits.
 */
export async function readResultsPage(redis: RedisClient, where: RunLocation, runId: string, from: number): Promise<ResultsPage> {
  const [fn, chunkSizeText, totalText, enqueuedText] = await redis.hmget(photonsKeys(where.prefix).run(runId), 'fn', 'chunkSize', 'total', 'enqueuedItems');
  if (!fn) throw new PhotonsError(ErrorCodes.RUN_NOT_FOUND, `No run ${runId}: it was never started with this Redis and prefix, or it expired.`);
  const chunkSize = Math.max(1, Number(chunkSizeText));
  const total = totalText ? Number(totalText) : Number(enqueuedText ?? 0);
  const firstChunk = Math.floor(Math.max(0, from) / chunkSize);
  const chunks = Math.max(1, Math.floor(RESULTS_PAGE_ITEMS / chunkSize));
  const spans: Array<{ chunk: number; first: number; count: number }> = [];
  for (let chunk = firstChunk; chunk < firstChunk + chunks && chunk * chunkSize < total; chunk++) {
    spans.push({ chunk, first: chunk * chunkSize, count: Math.min(chunkSize, total - chunk * chunkSize) });
  }
  const ids = spans.map((span) => chunkJobId(runId, span.chunk));
  const snapshots = await readJobs(
    redis,
    ids.map((id) => jobKey(where.prefix, fn, where.cluster, id)),
  );
  const items: ItemResult[] = [];
  spans.forEach((span, i) => {
    const snapshot = snapshots[i]!;
    const outcomes: Outcome[] = snapshot.exists && snapshot.finished ? chunkItems(snapshot.outcome, span.count, chunkSize > 1, ids[i]!) : [];
    for (let k = 0; k < span.count; k++) {
      const outcome: Outcome = outcomes[k] ?? {
        ok: false,
        error: {
          code: snapshot.exists ? ErrorCodes.RUN_INCOMPLETE : ErrorCodes.JOB_NOT_FOUND,
          message: snapshot.exists
            ? `Item ${span.first + k} of run ${runId} has no result yet (job ${ids[i]} has not finished).`
            : `Item ${span.first + k} of run ${runId} is no longer in Redis: job ${ids[i]} expired, was removed or cancelled.`,
        },
      };
      items.push({ index: span.first + k, ...outcome });
    }
  });
  const last = spans[spans.length - 1];
  const next = last && last.first + last.count < total ? last.first + last.count : null;
  return { items, next };
}
