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

export interface JobRequest {
  jobId: string;
  input: unknown;
  attempt: number;
  /** Overrides the function's `config.timeoutMs`. */
  timeoutMs?: number;
}

export type HostMessage =
  | { type: 'load'; startup: RuntimeStartup }
  | { type: 'batch'; jobs: JobRequest[] }
  | { type: 'cancel'; jobId: string; reason: string }
  | { type: 'ping'; seq: number }
  /** The answer to a 'results-page' request: the page, or why there is none. */
  | { type: 'results-page'; requestId: number; page?: ResultsPage; error?: SerializedError };

/** `logs`: the lines of the job's log at the job-log level and above, when it wrote any. */
export type JobResult = ({ jobId: string; ok: true; valueJson: string } | { jobId: string; ok: false; error: SerializedError; unrecoverable: boolean }) & {
  logs?: string[];
};

export interface HeapReading {
  heapUsed: number;
  heapLimit: number;
  inFlight: number;
}

export type RuntimeMessage =
  | ({ type: 'ready'; config: FunctionConfig; initMs: number } & HeapReading)
  | { type: 'init-failed'; error: SerializedError }
  | ({ type: 'results'; results: JobResult[] } & HeapReading)
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
