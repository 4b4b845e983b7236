// What a runtime pool needs to know, and how the process config turns into it (the dispatcher and
// the local runner differ only in the overrides).
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../config';
import type { ResultsPage } from '../contract/run-results';
import type { FunctionBundle } from '../photon-worker/bundle';
import type { JobLogLevel } from '../photon-worker/job-log';
import type { Mode } from '../photon-worker/types';
import type { SharedRuntimes } from './shared-runtimes';
import type { IdleBudget } from './idle-budget';
import type { SpareThreads } from './spare-threads';

export interface PoolOptions {
  bundle: FunctionBundle;
  mode: Mode;
  /** Most runtimes of this function at once (lambda mode: its concurrency). */
  maxRuntimes: number;
  /** Photon slots per runtime unless the function's config says otherwise (lambda mode: 1; 0: they follow memory). */
  photonsPerRuntime: number;
  /** Heap limit per runtime unless the function's config says otherwise. */
  memoryMb: number;
  keepAliveMs: number;
  watchdogMs: number;
  /** How long a runtime may take to load its function before it is replaced. */
  startTimeoutMs: number;
  defaultTimeoutMs: number;
  /** Most jobs in one batch message. */
  batchSize: number;
  /** How long the first job of a batch waits for company, in ms (0: the same turn of the event loop). */
  batchLingerMs: number;
  /** Event-loop utilisation above which a function counts as CPU-bound and gets another runtime. */
  eluHigh: number;
  logLevel: string;
  /** The lowest level of a job's lines that also go to its BullMQ job log, unless its function's config says otherwise. */
  jobLogLevel: JobLogLevel;
  logger: Logger;
  onProgress?: (jobId: string, value: number | Record<string, unknown>) => void;
  /** Reads a page of a map run's results for ctx.results() (the dispatcher's Redis). */
  readResults?: (runId: string, from: number) => Promise<ResultsPage>;
  /** Booted threads shared by the pools of a dispatcher, taken for cold starts. */
  spares?: SpareThreads;
  /** Shared threads for the function's first runtime, when sharing is on (ARCHITECTURE.md, "Shared runtimes"). */
  shared?: SharedRuntimes;
  /** The memory the idle runtimes of all a dispatcher's functions share (dispatcher/idle-budget.ts). */
  idleBudget?: IdleBudget;
  /** Where runtimes log (1: stdout, the default; 2: stderr). */
  logFd?: 1 | 2;
}

/** Most runtimes of a function in lambda mode unless dispatcher.concurrency says otherwise. */
const LAMBDA_RUNTIMES = 256;

/** Pool options from the process config; `overrides` for what the caller decides itself. */
export function poolOptionsFrom(config: Readonly<PhotonsConfig>, bundle: FunctionBundle, logger: Logger, overrides: Partial<PoolOptions> = {}): PoolOptions {
  const mode = overrides.mode ?? config.mode;
  return {
    bundle,
    mode,
    maxRuntimes: mode === 'lambda' ? config.dispatcher.concurrency || LAMBDA_RUNTIMES : config.runtime.maxRuntimes,
    photonsPerRuntime: config.runtime.photonsPerRuntime,
    memoryMb: config.runtime.memoryMb,
    keepAliveMs: config.runtime.keepAliveMs,
    watchdogMs: config.runtime.watchdogMs,
    startTimeoutMs: config.runtime.startTimeoutMs,
    defaultTimeoutMs: config.job.timeoutMs,
    batchSize: config.batch.size,
    batchLingerMs: config.batch.lingerMs,
    eluHigh: config.runtime.eluHigh,
    logLevel: config.log.level,
    jobLogLevel: config.log.jobLevel,
    logger,
    ...overrides,
  };
}
