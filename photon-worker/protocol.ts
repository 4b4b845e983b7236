// The messages between a runtime's host (dispatcher/runtime.ts) and its worker thread
// (photon-worker/runtime-thread.ts). The only thing the two sides share about their messages.
import type { ResultsPage } from '../contract/run-results';
import type { SerializedError } from '../errors';
import type { JobLogLevel } from './job-log';
import type { FunctionConfig, Mode } from './types';

/** What a runtime thread loads, in its first message (threads may be started before a function needs them). */
export interface RuntimeStartup {
  runtimeId: number;
  functionName: string;
  /** The function's source file, for messages and `__filename`. */
  file: string;
  /** The bundled CommonJS code, compiled once by the thread. */
  code: string;
  /** The bundle's source map (JSON), to point stack traces at the author's files. */
  sourceMap: string;
  mode: Mode;
  logLevel: string;
  /** Timeout of a job whose function config and request name none. */
  defaultTimeoutMs: number;
  /** The file descriptor the runtime's log lines go to (default 1, stdout; `photons run`: 2). */
  logFd?: number;
  /**
   * The runtime's own temporary folder, made and removed by the host: the thread's os.tmpdir(),
   * so photons' folders die with the runtime even when it crashes.
   */
  tmpdir?: string;
  /**
   * The lowest level of a job's lines that travel with its answer for its BullMQ job log, unless
   * the function's config names one; absent or `off`: none (ARCHITECTURE.md, "Job logs").
   */
  jobLogLevel?: JobLogLevel;
}

/**
 * A job's inputs to run, each as a photon: one for a job; for a chunk job, its items from `first`
 * on, each running as `<jobId>#<index>`. They are answered together, in one answer, so a chunk
 * costs the host one entry and one answer, not one per item (ARCHITECTURE.md, "Scheduling").
 */
export interface JobRequest {
  jobId: string;
  inputs: unknown[];
  /** Set for a chunk job's items: the index of the first of `inputs` in the chunk. */
  first?: number;
  attempt: number;
  /** Overrides the function's `config.timeoutMs`. */
  timeoutMs?: number;
}

/** The photon id of a request's input `i`: the job's own id, or a chunk item's `<jobId>#<index>`. */
export function photonJobId(job: JobRequest, i: number): string {
  return job.first === undefined ? job.jobId : `${job.jobId}#${job.first + i}`;
}

/** What one input came to. `logs`: the lines of its job log at the job-log level and above, when it wrote any. */
export type ItemOutcome =
  { kind: 'done'; valueJson: string; logs?: string[] } | { kind: 'failed'; error: SerializedError; unrecoverable: boolean; logs?: string[] };

/** A request's answer: one outcome per input, in order. `seq` is the host's number for the request. */
export interface Answer {
  seq: number;
  items: ItemOutcome[];
}

export type HostMessage =
  | { type: 'load'; startup: RuntimeStartup }
  | { type: 'batch'; requests: Array<{ seq: number; job: JobRequest }> }
  /** Cancels the job's photon, or every item of a chunk job. */
  | { type: 'cancel'; jobId: string; reason: string }
  | { type: 'ping'; seq: number }
  /** The answer to a 'results-page' request: the page, or why there is none. */
  | { type: 'results-page'; requestId: number; page?: ResultsPage; error?: SerializedError };

export interface HeapReading {
  heapUsed: number;
  heapLimit: number;
  inFlight: number;
}

export type RuntimeMessage =
  | ({ type: 'ready'; config: FunctionConfig; initMs: number } & HeapReading)
  | { type: 'init-failed'; error: SerializedError }
  | ({ type: 'results'; answers: Answer[] } & HeapReading)
  | { type: 'progress'; jobId: string; value: number | Record<string, unknown> }
  | ({ type: 'pong'; seq: number } & HeapReading)
  /** A job in flight reads a run's results (ctx.results()): items from `from` on, one page. */
  | { type: 'results-page'; requestId: number; jobId: string; runId: string; from: number };

/**
 * The file name stack frames of bundled code carry until they are mapped back to the source. Here
 * and not in bundle.ts so that a runtime thread does not load esbuild just for this name.
 */
export function bundlePath(file: string): string {
  return `${file}.bundle.js`;
}
