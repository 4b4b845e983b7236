// Collects a run's results: keeps the chunk jobs not yet seen and reads them back from their job
// hashes, those named by an event first, all of them on each sweep, so none is ever missed.
import type { RedisClient } from '../contract/redis';
import { cancelledError, goneError, readJobs, type Outcome } from '../contract/jobs';
import { chunkItems, chunkJobId } from '../contract/run-results';
import { rideOut } from './ride-out';
import type { ItemResult } from './types';

/** Chunk `chunk` of a run holds items [first, first + count). */
export interface ChunkSpan {
  chunk: number;
  first: number;
  count: number;
}

// Keys per pipeline: big enough to amortise round trips, small enough not to stall Redis.
const READ_BATCH = 1_000;

export interface RunReaderOptions {
  runId: string;
  /** Several inputs per job ('photons:chunk' jobs) rather than one plain job per input. */
  chunked: boolean;
  redis: () => Promise<RedisClient>;
  jobKey: (jobId: string) => string;
  /** Whether the run was cancelled: a missing job then means removed before it ran. */
  cancelled: () => boolean;
  /** Whether this process stopped following the run: an outage is then not waited out. */
  detached: () => boolean;
  /**
   * Whether the caller holds as many results as it should before it consumes some: the reading
   * then stops between two batches (the rest is read at the next read).
   */
  full?: () => boolean;
}

export class RunReader {
  private readonly pending = new Map<number, ChunkSpan>();
  private readonly hinted = new Set<number>();
  /**
   * Chunks named by an event before they were added: a job can finish while the addBulk that
   * enqueued it is still answering. Chunks are added in increasing order, so these are all at or
   * past `addedUpTo`, and each is hinted once added (else it waited for the next sweep, up to a second).
   */
  private readonly early = new Set<number>();
  private addedUpTo = 0;

  constructor(private readonly options: RunReaderOptions) {}

  get pendingChunks(): number {
    return this.pending.size;
  }

  pendingSpans(): ChunkSpan[] {
    return [...this.pending.values()];
  }

  add(spans: ChunkSpan[]): void {
    for (const span of spans) {
      this.pending.set(span.chunk, span);
      this.addedUpTo = Math.max(this.addedUpTo, span.chunk + 1);
      if (this.early.delete(span.chunk)) this.hinted.add(span.chunk);
    }
  }

  /** An event named this job: read it at the next read. Answers whether it is one of ours. */
  hint(jobId: string): boolean {
    const chunk = Number(jobId.slice(jobId.lastIndexOf('.') + 1));
    if (!this.pending.has(chunk)) {
      if (Number.isSafeInteger(chunk) && chunk >= this.addedUpTo) this.early.add(chunk);
      return false;
    }
    this.hinted.add(chunk);
    return true;
  }

  get hasHints(): boolean {
    return this.hinted.size > 0;
  }

  /** Reads the hinted chunks, or every pending one when `all`; returns the items now finished. */
  async read(all: boolean): Promise<ItemResult[]> {
    const spans = all ? [...this.pending.values()] : [...this.hinted].flatMap((c) => this.pending.get(c) ?? []);
    this.hinted.clear();
    const results: ItemResult[] = [];
    for (let start = 0; start < spans.length; start += READ_BATCH) {
      if (start > 0 && (this.options.full?.() || this.options.detached())) {
        // Not read this time: hinted, so that the next read (once there is room) starts with them.
        for (const span of spans.slice(start)) this.hinted.add(span.chunk);
        break;
      }
      const batch = spans.slice(start, start + READ_BATCH);
      const ids = batch.map((span) => chunkJobId(this.options.runId, span.chunk));
      // Per batch, so that an outage between two batches loses none of the first one's results.
      const snapshots = await rideOut(
        `Run ${this.options.runId}, reading results`,
        async () =>
          readJobs(
            await this.options.redis(),
            ids.map((id) => this.options.jobKey(id)),
          ),
        this.options.detached,
      );
      snapshots.forEach((snapshot, i) => {
        const span = batch[i]!;
        if (!this.pending.has(span.chunk)) return;
        let outcomes: Outcome[];
        if (!snapshot.exists) {
          const error = this.options.cancelled() ? cancelledError(`Job ${ids[i]}`) : goneError(`Job ${ids[i]}`);
          outcomes = Array.from({ length: span.count }, () => ({ ok: false, error }));
        } else if (!snapshot.finished) {
          return;
        } else {
          outcomes = chunkItems(snapshot.outcome, span.count, this.options.chunked, ids[i]!);
        }
        this.pending.delete(span.chunk);
        outcomes.forEach((outcome, k) => results.push({ index: span.first + k, ...outcome }));
      });
    }
    return results;
  }
}
