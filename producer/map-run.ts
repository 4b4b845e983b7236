// A map run: the inputs go out in chunk jobs (RunEnqueuer), the results come back per item
// (RunReader), and the caller iterates them in completion or input order while a bounded window
// of items is in flight. The run's record in Redis lets another process resume it by id.
import { chunkJobId, reduceJobId } from '../contract/run-results';
import { ErrorCodes, PhotonsError } from '../errors';
import { Fifo } from './fifo';
import type { JobEvents } from './job-events';
import { rideOut } from './ride-out';
import { RunEnqueuer, type RunEnqueuerOptions } from './run-enqueuer';
import { RunReader, type ChunkSpan, type RunReaderOptions } from './run-reader';
import { HEARTBEAT_STALE_MS, type RunMeta, type RunStore } from './run-store';
import { Signal } from './signal';
import { progressState, type ItemResult, type MapInputs, type RunProgress } from './types';

// Every pending chunk is read back at least this often, events or not.
const SWEEP_MS = 1_000;
const HEARTBEAT_MS = 5_000;
const PROGRESS_EVERY_MS = 100;
const SAVE_PROGRESS_EVERY_MS = 1_000;
/**
 * Results read from Redis and not yet taken by the caller, beyond which the reading waits for the
 * caller: a slow consumer (an HTTP client behind a full socket) holds Redis work and memory bounded.
 */
export const READ_AHEAD_ITEMS = 1_000;

export interface MapRunOptions {
  meta: RunMeta;
  store: RunStore;
  events: JobEvents;
  reader: Omit<RunReaderOptions, 'runId' | 'chunked' | 'cancelled' | 'detached'>;
  /** Present when this process enqueues (a new run, or a resumed one given its inputs again). */
  enqueue?: Pick<RunEnqueuerOptions, 'queue' | 'jobOptions' | 'maxInFlight' | 'check'> & { inputs: MapInputs };
  ordered: boolean;
  failFast: boolean;
  onProgress?: (progress: RunProgress) => void;
  /** Called once when this process stops working on the run. */
  onEnd?: () => void;
  /** Cancels jobs of the run: removes those not started, signals those running. */
  cancelJobs: (jobIds: string[]) => Promise<void>;
}

export class MapRun<T = unknown> implements AsyncIterable<ItemResult<T>> {
  readonly id: string;
  readonly fn: string;
  /** How long the run's record and results stay in Redis. */
  readonly ttlSec: number;
  private readonly meta: RunMeta;
  private readonly reader: RunReader;
  private readonly unordered = new Fifo<ItemResult<T>>();
  private readonly inOrder = new Map<number, ItemResult<T>>();
  private nextIndex = 0;
  private consumed = 0;
  private done = 0;
  private failed = 0;
  private sealed = false;
  /** The enqueuer stops taking inputs (cancel, failure, detach). */
  private enqueueStopped = false;
  /** This process stops reading results (failure, detach). */
  private detached = false;
  private fatal: Error | undefined;
  private enqueuing: Promise<void> | undefined;
  private halting: Promise<void> | undefined;
  private taken = false;
  private cursor: AsyncGenerator<ItemResult<T>> | undefined;
  private readonly results = new Signal();
  private readonly room = new Signal();
  private readonly wake = new Signal();
  /** The caller took a result (room in the read-ahead). */
  private readonly took = new Signal();
  private readonly ended: Promise<void>;
  private lastProgressAt = 0;
  private lastSaveAt = 0;

  constructor(private readonly o: MapRunOptions) {
    this.meta = { ...o.meta };
    this.id = o.meta.runId;
    this.fn = o.meta.fn;
    this.ttlSec = o.meta.ttlSec;
    this.reader = new RunReader({
      ...o.reader,
      runId: this.id,
      chunked: o.meta.chunkSize > 1,
      cancelled: () => this.meta.state === 'cancelled' || this.meta.state === 'failed',
      detached: () => this.detached,
      full: () => this.full,
    });
    this.reader.add(spansOf(0, o.meta.enqueuedChunks, o.meta));
    if (o.meta.state !== 'enqueuing') this.seal(o.meta.total ?? o.meta.enqueuedItems);
    this.ended = this.start();
  }

  progress(): RunProgress {
    const { runId, fn, state, enqueuedItems, total, reduce } = this.meta;
    const progress: RunProgress = {
      runId,
      fn,
      state: progressState(state, total, this.done),
      total,
      enqueued: enqueuedItems,
      done: this.done,
      failed: this.failed,
    };
    return reduce ? { ...progress, reduce, reduceJobId: reduceJobId(runId) } : progress;
  }

  [Symbol.asyncIterator](): AsyncIterator<ItemResult<T>> {
    if (this.taken) throw new PhotonsError(ErrorCodes.USAGE, `Run ${this.id} is already being iterated: iterate a run once.`);
    this.taken = true;
    return this.shared();
  }

  /**
   * Lithops' wait(ANY_COMPLETED) with a count: the next `n` results to finish (fewer if the run ends
   * first), in completion order. What they take is not yielded again; iterating or waiting goes on
   * with the rest. For a run iterated elsewhere (for await), use that loop instead.
   */
  async first(n: number): Promise<Array<ItemResult<T>>> {
    if (!Number.isInteger(n) || n < 1)
      throw new PhotonsError(ErrorCodes.INVALID_OPTION, `first(n) takes a whole number of results of 1 or more, got ${String(n)}.`);
    const taken: Array<ItemResult<T>> = [];
    while (taken.length < n) {
      const next = await this.shared().next();
      if (next.done) break;
      taken.push(next.value);
    }
    return taken;
  }

  /** wait(ANY_COMPLETED): at least one result (none only when the run has no more), and every other one already in. */
  async any(): Promise<Array<ItemResult<T>>> {
    const taken = await this.first(1);
    while (taken.length > 0 && this.ready > 0) taken.push(...(await this.first(1)));
    return taken;
  }

  /** wait(ALL_COMPLETED): every result not taken yet, in input order, once the run has ended. */
  async all(): Promise<Array<ItemResult<T>>> {
    const taken = await this.first(Number.MAX_SAFE_INTEGER);
    return taken.sort((a, b) => a.index - b.index);
  }

  /** Waits for the end of the run (consuming the results when nobody iterates) and returns its counts. */
  async finished(): Promise<RunProgress> {
    if (!this.taken) {
      while (!(await this.shared().next()).done);
    } else {
      await this.ended;
      await this.halting;
      if (this.fatal) throw this.fatal;
    }
    return this.progress();
  }

  /** Stops enqueuing and cancels the jobs not finished; their items fail with PHOTONS_ERR_CANCELLED. */
  async cancel(): Promise<void> {
    await this.halt('cancelled');
    await this.ended;
  }

  /** Stops this process's work on the run without touching its jobs (client shutdown). */
  detach(): Promise<void> {
    this.enqueueStopped = true;
    this.detached = true;
    this.wake.notify();
    this.room.notify();
    this.took.notify();
    this.results.notify();
    return this.ended.catch(() => undefined);
  }

  /** The one iteration of the run's results, shared by for await and the wait helpers. */
  private shared(): AsyncGenerator<ItemResult<T>> {
    this.cursor ??= this.iterate();
    return this.cursor;
  }

  /** Results in and ready to be taken now. */
  private get ready(): number {
    return this.o.ordered ? (this.inOrder.has(this.nextIndex) ? 1 : 0) : this.unordered.length;
  }

  private async *iterate(): AsyncGenerator<ItemResult<T>> {
    try {
      for (;;) {
        const next = this.take();
        if (next) {
          yield next;
          this.consumed++;
          this.room.notify();
          this.took.notify();
          continue;
        }
        if (this.fatal) {
          // The run's end state is recorded (and its jobs cancelled) before the caller hears of it.
          await this.halting;
          throw this.fatal;
        }
        if (this.complete || this.detached) return;
        await this.results.wait();
      }
    } finally {
      // Leaving the loop early detaches: the jobs run on and the run can be resumed by id.
      if (!this.complete && !this.fatal) await this.detach();
    }
  }

  private take(): ItemResult<T> | undefined {
    if (!this.o.ordered) return this.unordered.shift();
    const next = this.inOrder.get(this.nextIndex);
    if (next) {
      this.inOrder.delete(this.nextIndex);
      this.nextIndex++;
    }
    return next;
  }

  /**
   * The caller has READ_AHEAD_ITEMS results to take: read no more until it takes some. In input
   * order, only when the next one is among them (else reading is what lets the caller go on); never
   * once the run is halting, whose end must not wait for a caller that may be the one halting it.
   */
  private get full(): boolean {
    if (this.halting) return false;
    if (!this.o.ordered) return this.unordered.length >= READ_AHEAD_ITEMS;
    return this.inOrder.size >= READ_AHEAD_ITEMS && this.inOrder.has(this.nextIndex);
  }

  private get complete(): boolean {
    return this.sealed && this.reader.pendingChunks === 0;
  }

  private async start(): Promise<void> {
    const off = this.o.events.onRun(this.fn, this.id, (jobId) => {
      if (this.reader.hint(jobId)) this.wake.notify();
    });
    // Not ridden out: the next beat tries again.
    const heartbeat = setInterval(() => void this.o.store.update(this.id, { heartbeatAt: Date.now() }, this.meta.ttlSec).catch(() => undefined), HEARTBEAT_MS);
    heartbeat.unref();
    try {
      await this.o.events.watch(this.fn);
      const enqueuing = this.o.enqueue && this.meta.state === 'enqueuing' ? this.enqueue() : undefined;
      this.enqueuing = enqueuing;
      enqueuing?.catch((err: unknown) => void this.halt('failed', err));
      if (!enqueuing) clearInterval(heartbeat);
      await this.pump(!enqueuing && this.meta.state === 'enqueuing');
      await enqueuing?.catch(() => undefined);
      await this.halting;
    } catch (err) {
      this.fatal ??= asError(err);
    } finally {
      clearInterval(heartbeat);
      off();
      this.report(true);
      this.o.onEnd?.();
      if (this.o.enqueue) await this.save({ done: this.done, failed: this.failed }).catch(() => undefined);
      this.results.notify();
    }
  }

  private async enqueue(): Promise<void> {
    const e = this.o.enqueue!;
    const enqueuer = new RunEnqueuer({
      ...e,
      runId: this.id,
      fn: this.fn,
      chunkSize: this.meta.chunkSize,
      startChunk: this.meta.enqueuedChunks,
      consumed: () => this.consumed,
      room: this.room,
      stopped: () => this.enqueueStopped,
      onEnqueued: async (spans) => {
        this.reader.add(spans);
        if (this.reader.hasHints) this.wake.notify();
        const last = spans[spans.length - 1]!;
        this.meta.enqueuedChunks = last.chunk + 1;
        this.meta.enqueuedItems = last.first + last.count;
        await this.save({ enqueuedChunks: this.meta.enqueuedChunks, enqueuedItems: this.meta.enqueuedItems, heartbeatAt: Date.now() });
        this.report(false);
      },
    });
    const total = await enqueuer.run();
    if (this.enqueueStopped) return;
    this.meta.state = 'enqueued';
    this.seal(total);
    await this.save({ state: 'enqueued', total });
  }

  /** Reads results until every chunk is seen; `watching`: another process enqueues, follow its record. */
  private async pump(watching: boolean): Promise<void> {
    let lastSweep = 0;
    while (!this.complete && !this.detached) {
      if (this.full) {
        // No Redis work while the caller does not consume; the timeout only re-checks the state.
        await this.took.wait(SWEEP_MS);
        continue;
      }
      const sweep = Date.now() - lastSweep >= SWEEP_MS;
      if (sweep) {
        lastSweep = Date.now();
        if (watching) watching = await this.follow();
      }
      this.accept(await this.reader.read(sweep));
      if (this.complete || this.detached) break;
      if (!this.reader.hasHints) await this.wake.wait(Math.max(1, SWEEP_MS - (Date.now() - lastSweep)));
    }
  }

  /** Catches up with the enqueuing process's record; answers whether it is still enqueuing. */
  private async follow(): Promise<boolean> {
    const meta = await rideOut(
      `Run ${this.id}, following its record`,
      () => this.o.store.load(this.id),
      () => this.detached,
    );
    if (!meta) throw new PhotonsError(ErrorCodes.RUN_NOT_FOUND, `Run ${this.id} is no longer in Redis (expired).`);
    this.reader.add(spansOf(this.meta.enqueuedChunks, meta.enqueuedChunks, meta));
    Object.assign(this.meta, { enqueuedChunks: meta.enqueuedChunks, enqueuedItems: meta.enqueuedItems, state: meta.state });
    if (meta.state !== 'enqueuing') {
      this.seal(meta.total ?? meta.enqueuedItems);
      return false;
    }
    if (Date.now() - meta.heartbeatAt > HEARTBEAT_STALE_MS) throw incomplete(meta);
    return true;
  }

  private accept(results: ItemResult[]): void {
    if (results.length === 0) return;
    let firstFailure: ItemResult | undefined;
    for (const result of results) {
      this.done++;
      if (!result.ok) {
        this.failed++;
        firstFailure ??= result;
      }
      if (this.o.ordered) this.inOrder.set(result.index, result as ItemResult<T>);
      else this.unordered.push(result as ItemResult<T>);
    }
    this.results.notify();
    this.report(false);
    if (this.o.enqueue && Date.now() - this.lastSaveAt > SAVE_PROGRESS_EVERY_MS) {
      this.lastSaveAt = Date.now();
      void this.save({ done: this.done, failed: this.failed }).catch(() => undefined);
    }
    if (firstFailure && !firstFailure.ok && this.o.failFast && !this.fatal) {
      const { index, error } = firstFailure;
      const cause = new PhotonsError(
        ErrorCodes.RUN_FAILED,
        `Run ${this.id} of "${this.fn}" stopped at its first failed item (failFast): item ${index} failed with ${error.code}: ${error.message}`,
      );
      void this.halt('failed', cause);
    }
  }

  /** Stops enqueuing, records the run's end state and cancels its unfinished jobs, once. */
  private halt(state: 'cancelled' | 'failed', err?: unknown): Promise<void> {
    if (err) this.fatal ??= asError(err);
    this.halting ??= (async () => {
      this.enqueueStopped = true;
      this.room.notify();
      // Bulk adds already under way finish first, so their chunks are cancelled too.
      await this.enqueuing?.catch(() => undefined);
      this.meta.state = state;
      this.seal(this.meta.enqueuedItems);
      await this.save({ state, total: this.meta.enqueuedItems }).catch(() => undefined);
      await this.o.cancelJobs(this.reader.pendingSpans().map((span) => chunkJobId(this.id, span.chunk))).catch(() => undefined);
      // A failed run ends here; a cancelled one goes on reading until every item is accounted for.
      if (this.fatal) this.detached = true;
      this.wake.notify();
      this.results.notify();
    })();
    return this.halting;
  }

  private seal(total: number): void {
    this.sealed = true;
    this.meta.total = total;
    this.wake.notify();
  }

  private report(final: boolean): void {
    if (!this.o.onProgress || (!final && Date.now() - this.lastProgressAt < PROGRESS_EVERY_MS)) return;
    this.lastProgressAt = Date.now();
    this.o.onProgress(this.progress());
  }

  private save(fields: Partial<RunMeta>): Promise<void> {
    return rideOut(
      `Run ${this.id}, saving its record`,
      () => this.o.store.update(this.id, fields, this.meta.ttlSec),
      () => this.detached,
    );
  }
}

/** Chunks [from, to) of a run whose first `meta.enqueuedItems` items are enqueued. */
function spansOf(from: number, to: number, meta: Pick<RunMeta, 'chunkSize' | 'enqueuedItems'>): ChunkSpan[] {
  const spans: ChunkSpan[] = [];
  for (let chunk = from; chunk < to; chunk++) {
    const first = chunk * meta.chunkSize;
    spans.push({ chunk, first, count: Math.min(meta.chunkSize, meta.enqueuedItems - first) });
  }
  return spans;
}

export function incomplete(meta: RunMeta): PhotonsError {
  return new PhotonsError(
    ErrorCodes.RUN_INCOMPLETE,
    `Run ${meta.runId} of "${meta.fn}" stopped after enqueuing ${meta.enqueuedItems} items and nobody is enqueuing the rest: resume it with its inputs again (resumeRun(runId, { inputs }) or photons map --resume ${meta.runId} ${meta.fn} <inputs.jsonl>).`,
  );
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
