// Feeds a run's inputs into its function queue: reads them lazily (array, iterable or async
// iterable), checks each is JSON, cuts fixed-size chunks and adds them in bulk, never more than
// the window ahead of what the caller has consumed.
import type { JobsOptions, Queue } from 'bullmq';
import { CHUNK_JOB_NAME, type ChunkData } from '../contract/wire';
import { rideOut } from './ride-out';
import { chunkJobId } from '../contract/run-results';
import type { ChunkSpan } from './run-reader';
import type { Signal } from './signal';
import type { MapInputs } from './types';

// Jobs per addBulk: one round trip for many jobs, without one huge Lua call blocking Redis.
const BULK_JOBS = 200;
// A partial batch of a slow input stream goes out after this long rather than waiting to fill.
const FLUSH_AFTER_MS = 20;

export interface RunEnqueuerOptions {
  runId: string;
  fn: string;
  chunkSize: number;
  /** Resume: the first `startChunk` chunks are in Redis already; their inputs are skipped. */
  startChunk: number;
  inputs: MapInputs;
  queue: Queue;
  jobOptions: (jobId: string) => JobsOptions;
  maxInFlight: number;
  /** Items the caller has consumed: the window moves with it. */
  consumed: () => number;
  /** Notified whenever `consumed` grows. */
  room: Signal;
  stopped: () => boolean;
  /** Throws when input `index` is not JSON, at the client's maxInputDepth; a no-op for inputs checked already. */
  check: (input: unknown, index: number) => void;
  /** Called after each bulk add, in order, with the chunks it added. */
  onEnqueued: (spans: ChunkSpan[]) => Promise<void>;
}

export class RunEnqueuer {
  /** Items handed to the queue or waiting in the current batch. */
  private reserved: number;
  private batch: Array<{ span: ChunkSpan; items: unknown[] }> = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: RunEnqueuerOptions) {
    this.reserved = o.startChunk * o.chunkSize;
  }

  /** Enqueues every input; resolves with the number of inputs once all are in Redis. */
  async run(): Promise<number> {
    const { chunkSize } = this.o;
    const skip = this.o.startChunk * chunkSize;
    const iterator = iteratorOf(this.o.inputs);
    let index = 0;
    let chunk = this.o.startChunk;
    let items: unknown[] = [];
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || this.o.stopped()) break;
        if (index < skip) {
          index++;
          continue;
        }
        const input = next.value === undefined ? null : next.value;
        this.o.check(input, index);
        items.push(input);
        index++;
        if (items.length === chunkSize) {
          await this.add({ chunk: chunk++, first: index - chunkSize, count: chunkSize }, items);
          items = [];
        }
      }
      if (items.length > 0 && !this.o.stopped()) await this.add({ chunk: chunk++, first: index - items.length, count: items.length }, items);
      await this.flush();
    } finally {
      clearTimeout(this.timer);
      await iterator.return?.();
    }
    return index;
  }

  private async add(span: ChunkSpan, items: unknown[]): Promise<void> {
    while (this.reserved - this.o.consumed() + span.count > this.o.maxInFlight && this.reserved > this.o.consumed()) {
      // Out of room: what is batched must reach Redis before the caller can consume anything.
      await this.flush();
      await this.o.room.wait(1_000);
      if (this.o.stopped()) return;
    }
    this.reserved += span.count;
    this.batch.push({ span, items });
    if (this.batch.length >= BULK_JOBS) await this.flush();
    else this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), FLUSH_AFTER_MS);
  }

  /** Sends the batch; sends are chained so chunks reach the run's reader in order. */
  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.o.stopped() ? [] : this.batch;
    this.batch = [];
    if (batch.length > 0) this.sending = this.sending.then(() => this.send(batch));
    return this.sending;
  }

  private async send(batch: Array<{ span: ChunkSpan; items: unknown[] }>): Promise<void> {
    const chunked = this.o.chunkSize > 1;
    const jobs = batch.map(({ span, items }) => {
      const jobId = chunkJobId(this.o.runId, span.chunk);
      const data: unknown = chunked ? ({ items } satisfies ChunkData) : items[0];
      return { name: chunked ? CHUNK_JOB_NAME : this.o.fn, data, opts: this.o.jobOptions(jobId) };
    });
    await rideOut(`Run ${this.o.runId}, enqueuing`, () => this.o.queue.addBulk(jobs), this.o.stopped);
    await this.o.onEnqueued(batch.map((b) => b.span));
  }
}

function iteratorOf(inputs: MapInputs): AsyncIterator<unknown> | Iterator<unknown> {
  return Symbol.asyncIterator in inputs ? (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (inputs as Iterable<unknown>)[Symbol.iterator]();
}
