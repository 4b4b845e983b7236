// A run's timeline as its jobs recorded it: BullMQ keeps on every job hash when it was added
// (`timestamp`), when its last attempt started (`processedOn`) and when it finished (`finishedOn`),
// beside its result, so the picture of a run lasts exactly as long as its results. A chunk's items
// run together as photons of one job: a chunk is one bar. See ARCHITECTURE.md, "Map-reduce".
import type { RedisClient } from '../contract/redis';
import { chunkItems, chunkJobId } from '../contract/run-results';
import { snapshotOf } from '../contract/jobs';
import type { RunMeta } from './run-store';

/** One job of a run: chunk `chunk`, items [first, first + count). Times in ms since the epoch. */
export interface TimelineBar {
  chunk: number;
  first: number;
  count: number;
  /** Absent when the job is gone (expired, removed, cancelled before it ran). */
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Items of the bar that failed (a job gone counts all of its items). */
  failed: number;
}

export interface RunTimeline {
  runId: string;
  fn: string;
  chunkSize: number;
  createdAt: number;
  /** When it was read: the end of the picture of a run still going. */
  readAt: number;
  bars: TimelineBar[];
}

// Keys per pipeline, as the run reader's.
const READ_BATCH = 1_000;
const FIELDS = ['timestamp', 'finishedOn', 'returnvalue', 'failedReason', 'stacktrace', 'processedOn'] as const;

export async function readTimeline(redis: RedisClient, meta: RunMeta, jobKey: (jobId: string) => string): Promise<RunTimeline> {
  const bars: TimelineBar[] = [];
  const chunked = meta.chunkSize > 1;
  for (let start = 0; start < meta.enqueuedChunks; start += READ_BATCH) {
    const pipeline = redis.pipeline();
    const end = Math.min(meta.enqueuedChunks, start + READ_BATCH);
    for (let chunk = start; chunk < end; chunk++) pipeline.hmget(jobKey(chunkJobId(meta.runId, chunk)), ...FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([err, reply], i) => {
      if (err) throw err;
      const fields = reply as Array<string | null>;
      const chunk = start + i;
      const first = chunk * meta.chunkSize;
      const count = Math.min(meta.chunkSize, meta.enqueuedItems - first);
      const snapshot = snapshotOf(fields);
      if (!snapshot.exists) return bars.push({ chunk, first, count, failed: count });
      const bar: TimelineBar = { chunk, first, count, queuedAt: Number(fields[0]), failed: 0 };
      if (fields[5]) bar.startedAt = Number(fields[5]);
      if (snapshot.finished) {
        bar.finishedAt = Number(fields[1]);
        bar.failed = chunkItems(snapshot.outcome, count, chunked, chunkJobId(meta.runId, chunk)).filter((o) => !o.ok).length;
      }
      return bars.push(bar);
    });
  }
  return { runId: meta.runId, fn: meta.fn, chunkSize: meta.chunkSize, createdAt: meta.createdAt, readAt: Date.now(), bars };
}
