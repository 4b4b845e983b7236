// The `ctx` a handler receives. Kept lean: a photon in flight should cost about a kilobyte, so the
// signal, the logger and the temporary folder are only created when a handler asks for them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { ItemResult } from '../contract/run-results';
import type { JobLogLines } from './job-log';
import type { ItemOutcome } from './protocol';
import { RUNTIME_OWNED, jobScope } from './job-scope';
import { SafeMap, performanceNow, promiseResolved, promiseThen, promiseWithResolver } from './primordials';
import type { PhotonContext } from './types';

/** What the photons of one runtime share: the store behind `ctx.shared` and `ctx.exclusive`. */
export class RuntimeServices {
  // Captured Map and Promise methods: a job that patched the builtins does not reach these tables.
  private readonly sharedValues = new SafeMap<string, Promise<unknown>>();
  private readonly locks = new SafeMap<string, Promise<void>>();

  constructor(
    readonly functionName: string,
    readonly rootLogger: () => Logger,
    /** The job's logger: a child of the runtime's, whose lines may also go to the job's log. */
    readonly jobLogger: (ctx: JobContext) => Logger,
    readonly reportProgress: (jobId: string, value: number | Record<string, unknown>) => void,
    readonly readResults: (jobId: string, input: unknown) => AsyncIterable<ItemResult> = () => {
      throw new Error('ctx.results() reads a map run in Redis: run the reduce job through a dispatcher (client.mapReduce, photons map --reduce).');
    },
  ) {}

  shared<T>(key: string, init: () => T | Promise<T>): Promise<T> {
    let value = this.sharedValues.get(key) as Promise<T> | undefined;
    if (!value) {
      // The init belongs to the runtime, not to the job that happened to ask first: the timers it
      // starts live on after that job (see photon-timers.ts).
      const created: Promise<T> = jobScope.run(RUNTIME_OWNED, () => promiseThen(promiseResolved(), init));
      value = created;
      this.sharedValues.set(key, created);
      // A failed init is not cached: the callers waiting now see the error, the next one retries.
      void promiseThen(created, undefined, () => {
        if (this.sharedValues.get(key) === created) this.sharedValues.delete(key);
      });
    }
    return value;
  }

  async exclusive<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? promiseResolved();
    const { promise: mine, resolve: release } = promiseWithResolver();
    const tail: Promise<void> = promiseThen(previous, () => mine);
    this.locks.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

export class JobContext implements PhotonContext {
  private controller: AbortController | undefined;
  private logger: Logger | undefined;
  private folder: string | undefined;
  /** Set once the job has an answer; a late abort then changes nothing. */
  abortReason: Error | undefined;
  /** When the job's timeout fires, on this thread's performance.now() clock: what getRemainingTimeInMillis counts down to. */
  deadline = Infinity;
  /** What the job logged for its BullMQ job log, once it logs. */
  logLines: JobLogLines | undefined;
  /** Hears the photon's outcome, once (runtime.ts). */
  answered: ((outcome: ItemOutcome) => void) | undefined;

  constructor(
    private readonly services: RuntimeServices,
    readonly jobId: string,
    readonly photonId: number,
    readonly attempt: number,
    private readonly input?: unknown,
  ) {}

  get functionName(): string {
    return this.services.functionName;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, Math.round(this.deadline - performanceNow()));
  }

  get log(): Logger {
    this.logger ??= this.services.jobLogger(this);
    return this.logger;
  }

  get tmpdir(): string {
    this.folder ??= mkdtempSync(path.join(tmpdir(), `photons-${this.services.functionName}-${this.photonId}-`));
    return this.folder;
  }

  progress(value: number | Record<string, unknown>): void {
    this.services.reportProgress(this.jobId, value);
  }

  results(): AsyncIterable<ItemResult> {
    return this.services.readResults(this.jobId, this.input);
  }

  shared<T>(key: string, init: () => T | Promise<T>): Promise<T> {
    return this.services.shared(key, init);
  }

  exclusive<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    return this.services.exclusive(key, fn);
  }

  abort(reason: Error): void {
    this.abortReason ??= reason;
    this.controller?.abort(reason);
  }

  /** Removes the job's temporary folder, if it made one. */
  release(): void {
    // Synchronous: an asynchronous removal would be lost when the runtime is retired right after.
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
  }
}
