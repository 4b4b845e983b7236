// The producer's public types: options of each call and the shapes of what comes back.
import type { SerializedError } from '../errors';

export interface ClientOptions {
  /** Redis of the job queues. Default redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** The Redis is a Redis Cluster (redisUrl may then list several of its nodes, comma-separated). Default false. */
  cluster?: boolean;
  /** Key prefix shared with the dispatchers (config redis.prefix). Default 'bull'. */
  prefix?: string;
  /** How long results of jobs and runs stay in Redis, in seconds. Default 86400. */
  resultTtlSec?: number;
  /** map: default of MapOptions.maxInFlight. Default 10000. */
  maxInFlight?: number;
  /** Deepest nesting of arrays and objects in an input (producer.maxInputDepth). Default 64. */
  maxInputDepth?: number;
  /** Longest delayMs and backoffMs a job may ask for (producer.maxDelayMs). Default one year. */
  maxDelayMs?: number;
  /** Most attempts a job may ask for (producer.maxAttempts). Default 1000. */
  maxAttempts?: number;
}

export interface EnqueueOptions {
  /**
   * Your own id: 1 to 128 letters, digits, '.', '_' or '-', not only digits, not the name of a
   * BullMQ queue key (e.g. 'wait', 'delayed'). Enqueueing an id again with the same function and
   * input adds nothing and answers the existing job; with another input it throws
   * PHOTONS_ERR_JOB_EXISTS. Default: a random UUID.
   */
  jobId?: string;
  /** Attempts before the job fails for good. Default: the function's config.attempts, else 1. */
  attempts?: number;
  /** Base delay of the exponential backoff between attempts, in ms. */
  backoffMs?: number;
  /** Wait this long before the job may run, in ms. */
  delayMs?: number;
  /** 1 (highest) to 2097151; jobs without a priority go first. */
  priority?: number;
}

export interface InvokeOptions extends EnqueueOptions {
  /** Longest wait for the result, in ms (the job itself may go on). Default 60000. */
  timeoutMs?: number;
}

export type JobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed';

export interface JobStatus {
  jobId: string;
  fn: string;
  state: JobState;
  /** What the handler last reported with ctx.progress. */
  progress?: unknown;
  createdAt?: number;
  finishedAt?: number;
  /** Set when completed. */
  value?: unknown;
  /** Set when failed: the function's error, as the dispatcher stored it. */
  error?: SerializedError;
  /** The content hash of the deployed version that ran it (functions from `photons deploy`). */
  version?: string;
}

export interface CancelResult {
  jobId: string;
  fn: string;
  /** removed: it had not started; signalled: its handler's ctx.signal fires; finished: too late. */
  outcome: 'removed' | 'signalled' | 'finished';
}

export type { ItemResult } from '../contract/run-results';

export type RunState = 'enqueuing' | 'enqueued' | 'cancelled' | 'failed';
/** A run's state as reported: `done` once every item of a fully enqueued run has its outcome. */
export type RunProgressState = RunState | 'done';

/** The reported state: a run whose every item has answered is done. */
export function progressState(state: RunState, total: number | null, answered: number): RunProgressState {
  return state === 'enqueued' && total !== null && answered >= total ? 'done' : state;
}

export interface RunProgress {
  runId: string;
  fn: string;
  state: RunProgressState;
  /** Items in the run; null while an iterable input is still being read. */
  total: number | null;
  /** Items enqueued so far. */
  enqueued: number;
  /** Items finished, successfully or not. */
  done: number;
  /** Items of `done` that failed. */
  failed: number;
  /** A map-reduce run: the reduce function and the id of its one job (whose result is the run's). */
  reduce?: string;
  reduceJobId?: string;
}

export interface MapOptions {
  /** Inputs per BullMQ job; each still runs as its own photon with its own result. Default 1. */
  chunkSize?: number;
  /** Yield results in input order instead of completion order. Default false. */
  ordered?: boolean;
  /** Stop the run (cancel what is left) at the first failed item. Default false. */
  failFast?: boolean;
  /** Most items enqueued and not yet consumed by the caller: the backpressure window. */
  maxInFlight?: number;
  /** Attempts of each job of the run (a chunk is retried whole only when the chunk job fails). */
  attempts?: number;
  /** Called as results arrive (at most every 100 ms, and once at the end). */
  onProgress?: (progress: RunProgress) => void;
}

export interface ResumeOptions {
  /** The run's inputs again, when it stopped before all were enqueued. */
  inputs?: Iterable<unknown> | AsyncIterable<unknown>;
  ordered?: boolean;
  maxInFlight?: number;
  onProgress?: (progress: RunProgress) => void;
}

export type MapInputs = Iterable<unknown> | AsyncIterable<unknown>;
