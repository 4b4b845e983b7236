// What a function author sees: the handler signature, its `ctx` and its optional config.
import type { Logger } from 'pino';
import type { ItemResult } from '../contract/run-results';
import type { JobLogLevel } from './job-log';

/** How jobs of one function share a runtime. See ARCHITECTURE.md, "Modes". */
export type Mode = 'photon' | 'shared' | 'lambda';
export const MODES: readonly Mode[] = ['photon', 'shared', 'lambda'];

export interface PhotonContext {
  /** The BullMQ job id (or the input index in a local run). */
  readonly jobId: string;
  /** Unique within the runtime: use it to name private resources. */
  readonly photonId: number;
  /** 1 on the first attempt, 2 on the first retry, … */
  readonly attempt: number;
  /** The function's name (its file name without extension). */
  readonly functionName: string;
  /** Fires on timeout or cancel: pass it to fetch, streams and timers. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the job's timeout, 0 once past it (as AWS Lambda's context method of that name). */
  getRemainingTimeInMillis(): number;
  /** A pino logger bound with the function and the job. The photon's `console` writes here too. */
  readonly log: Logger;
  /** A private folder for this job, created on first use and removed after the job. */
  readonly tmpdir: string;
  /** Reports progress (a number or a JSON object) on the job. */
  progress(value: number | Record<string, unknown>): void;
  /**
   * One value per runtime, shared by every photon: initialised once even when many photons ask
   * at the same moment. A rejected init is not cached: the next caller tries again.
   */
  shared<T>(key: string, init: () => T | Promise<T>): Promise<T>;
  /**
   * In a reduce job (client.mapReduce, photons map --reduce): the map run's results in input order,
   * each `{ index, ok: true, value }` or `{ index, ok: false, error }`, read from Redis a page at a time.
   */
  results(): AsyncIterable<ItemResult>;
  /** Runs `fn` under a runtime-wide async mutex named `key`. */
  exclusive<T>(key: string, fn: () => T | Promise<T>): Promise<T>;
}

export type PhotonHandler<I = unknown, O = unknown> = (input: I, ctx: PhotonContext) => O | Promise<O>;

/** `export const config = { … }` in a function module. Every key is optional. */
export interface FunctionConfig {
  /** A job running longer fails with PHOTONS_ERR_TIMEOUT and its `ctx.signal` fires. */
  timeoutMs?: number;
  /** Jobs of this function that one runtime runs at once. */
  photonsPerRuntime?: number;
  /** Heap limit of one runtime, in MB. */
  memoryMb?: number;
  /** Attempts for jobs enqueued without their own `attempts` option. */
  attempts?: number;
  /** Base delay of the exponential backoff between attempts, in ms. */
  backoffMs?: number;
  /**
   * Jobs of this function started per window, across every dispatcher of the fleet (BullMQ's
   * queue rate limit); a chunk of a map counts its items. Jobs over the limit wait in the queue.
   */
  rateLimit?: { max: number; durationMs: number };
  /** Jobs of this function running at once across the fleet (BullMQ's global concurrency). */
  maxConcurrency?: number;
  /**
   * true (the default): once the module and its packages have loaded, the builtins (JSON, Math,
   * the prototypes of Object, Array, Promise…, the real global) are frozen, so no job can change
   * them for the others. false for code that must patch builtins while it runs.
   */
  protectBuiltins?: boolean;
  /**
   * The lowest level of the job's `ctx.log` (and console) lines that also go to its BullMQ job log
   * (`queue.getJobLogs(id)`, bull-board's Logs tab); `off` for none. Default: the dispatcher's
   * `log.jobLevel` (info).
   */
  jobLogLevel?: JobLogLevel;
}
