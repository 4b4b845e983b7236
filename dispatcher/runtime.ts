// The dispatcher's handle on one runtime: a worker thread running photons of one function.
// It sends batches, matches answers to jobs, watches the thread's event loop and heap, and when
// the thread dies answers every job it held with `runtime-died`, so nothing waits forever.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ResultsPage } from '../contract/run-results';
import { ErrorCodes, PhotonsError, type SerializedError } from '../errors';
import { displayPaths } from '../photon-worker/stack';
import type { FunctionBundle } from '../photon-worker/bundle';
import type { JobLogLevel } from '../photon-worker/job-log';
import type { HeapReading, HostMessage, RuntimeMessage } from '../photon-worker/protocol';
import type { FunctionConfig, Mode } from '../photon-worker/types';
import { makeRuntimeFolder } from './runtime-folders';
import type { RuntimeThread } from './shared-lease';
import type { SharedRuntimes } from './shared-runtimes';
import { startRuntimeThread, type SpareThreads, type ThreadClaim } from './spare-threads';
import { answerAll, split, type Waiting } from './waiting';

export interface RuntimeOptions {
  id: number;
  bundle: FunctionBundle;
  mode: Mode;
  memoryMb: number;
  watchdogMs: number;
  /** How long loading the function may keep the thread from answering. */
  startTimeoutMs: number;
  defaultTimeoutMs: number;
  logLevel: string;
  /** The lowest level of a job's lines that go to its BullMQ job log; absent: none. */
  jobLogLevel?: JobLogLevel;
  logger: Logger;
  onProgress: (jobId: string, value: number | Record<string, unknown>) => void;
  /** Reads a page of a map run's results for a job's ctx.results(); absent where there is no Redis (`photons run`). */
  readResults?: (runId: string, from: number) => Promise<ResultsPage>;
  onReady: (runtime: Runtime) => void;
  onAnswers: (runtime: Runtime) => void;
  onExit: (runtime: Runtime, reason: SerializedError | null) => void;
  /** Booted threads to take one from instead of starting a thread. */
  spares?: SpareThreads;
  /** Shared threads to take a place in before a thread of its own (ARCHITECTURE.md, "Shared runtimes"). */
  shared?: SharedRuntimes;
  /**
   * Where the runtime's log lines and the function's console output go: 1 (stdout, default) or
   * 2 (stderr: `photons run`, whose stdout carries only results).
   */
  logFd?: 1 | 2;
}

type State = 'starting' | 'ready' | 'closing' | 'dead';

export class Runtime {
  readonly id: number;
  readonly startedAt = Date.now();
  state: State = 'starting';
  config: FunctionConfig = {};
  /** Heap right after the function loaded: the runtime's own size. */
  baseHeap = 0;
  heapUsed = 0;
  heapLimit = 0;
  /** Measured heap per photon in flight (moving averages of heap growth over photons), 0 until measured. */
  heapPerPhoton = 0;
  private growthAverage = 0;
  private photonsAverage = 0;
  /** Event-loop utilisation over the last sampling interval, 0..1. */
  elu = 0;
  idleSince = Date.now();
  initMs = 0;
  /** Undefined while the runtime waits for a boot slot. */
  private worker: RuntimeThread | undefined;
  /** Its claim on a boot slot, when the thread came from the dispatcher's SpareThreads. */
  private claim: ThreadClaim | undefined;
  /** Requests sent and not answered, by the number the answer names. */
  private readonly pending = new Map<number, Waiting>();
  private nextSeq = 1;
  /** Photons in flight: the inputs of the pending requests. */
  private photons = 0;
  /** Pending requests per job id: a chunk's items may be in more than one. */
  private readonly jobs = new Map<string, number>();
  private lastElu: EventLoopUtilization | undefined;
  /** When the thread last showed its event loop turning: any message from it, a pong or not. */
  private lastHeard = Date.now();
  private pingSeq = 0;
  private readonly watchdog: NodeJS.Timeout;
  private exitReason: SerializedError | null = null;
  private retiring = false;
  private readyAt: number | undefined;
  /** Set when the function failed to load: its jobs fail, nothing retries. */
  initError: SerializedError | undefined;

  /** The runtime's own temporary folder, under which its photons make theirs; removed when it dies. */
  private readonly tmpdir: string;

  constructor(private readonly options: RuntimeOptions) {
    this.id = options.id;
    const { bundle } = options;
    const toStderr = options.logFd === 2;
    this.tmpdir = makeRuntimeFolder(bundle.name);
    // A spare or shared thread's stdout is the process's: a runtime that must keep stdout clean starts its own.
    const lease = toStderr ? undefined : options.shared?.lease(bundle, options.memoryMb);
    if (lease) {
      this.attach(lease);
    } else if (toStderr || !options.spares) {
      const worker = startRuntimeThread(options.memoryMb, `photons:${bundle.name}#${options.id}`, toStderr);
      if (toStderr) worker.stdout.pipe(process.stderr, { end: false });
      this.attach(worker);
    } else {
      // The thread may come later: threads boot a few at a time (dispatcher/spare-threads.ts).
      this.claim = options.spares.request(options.memoryMb, `photons:${bundle.name}#${options.id}`, (worker) => this.attach(worker));
    }
    // A ping the thread cannot answer means its event loop is blocked: one job's endless loop
    // would otherwise hold every photon of the runtime hostage.
    this.watchdog = setInterval(() => this.checkAlive(), Math.max(10, Math.floor(options.watchdogMs / 4)));
    this.watchdog.unref();
  }

  /** The runtime's thread, booted or booting: it loads the function, then takes jobs. */
  private attach(worker: RuntimeThread): void {
    const { bundle } = this.options;
    this.worker = worker;
    // The start allowance (startTimeoutMs) counts from here, not from the wait for a boot slot.
    this.lastHeard = Date.now();
    worker.postMessage({
      type: 'load',
      startup: {
        runtimeId: this.options.id,
        functionName: bundle.name,
        file: bundle.file,
        code: bundle.code,
        sourceMap: bundle.sourceMap,
        mode: this.options.mode,
        logLevel: this.options.logLevel,
        jobLogLevel: this.options.jobLogLevel,
        defaultTimeoutMs: this.options.defaultTimeoutMs,
        logFd: this.options.logFd ?? 1,
        tmpdir: this.tmpdir,
      },
    } satisfies HostMessage);
    worker.on('message', (message: RuntimeMessage) => this.onMessage(message));
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.exitReason ??= {
        code: ErrorCodes.RUNTIME_DIED,
        message: oom
          ? `The runtime of "${bundle.name}" ran out of heap (limit ${this.options.memoryMb} MB). Raise config.memoryMb or lower photonsPerRuntime.`
          : `The runtime of "${bundle.name}" crashed: ${displayPaths(String(err.message), path.dirname(bundle.file))}`,
      };
    });
    worker.on('exit', (exitCode?: number) => this.onExit(exitCode));
  }

  get inFlight(): number {
    return this.photons;
  }

  /** 0 while it waits for a boot slot. */
  get threadId(): number {
    return this.worker?.threadId ?? 0;
  }

  /** Sends requests in one message; each one's `resolve` is called with its outcomes. */
  run(waiting: readonly Waiting[]): void {
    const requests = waiting.map((w) => ({ seq: this.hold(w), job: w.job }));
    try {
      this.post({ type: 'batch', requests });
    } catch {
      // postMessage clones the whole batch or nothing: one input it cannot clone (nested too
      // deep, too big) would sink its neighbours. Sent one by one, only that input fails.
      for (const { seq } of requests) this.sendEach(this.release(seq)!);
    }
  }

  /** Sends a request's inputs one at a time; one that cannot be sent fails alone. */
  private sendEach(waiting: Waiting): void {
    let rest = waiting;
    while (rest.job.inputs.length > 1) {
      const [one, others] = split(rest, 1);
      this.sendOne(one);
      rest = others;
    }
    this.sendOne(rest);
  }

  private sendOne(waiting: Waiting): void {
    const seq = this.hold(waiting);
    try {
      this.post({ type: 'batch', requests: [{ seq, job: waiting.job }] });
    } catch (err) {
      const { job } = waiting;
      const which = job.first === undefined ? `job ${job.jobId}` : `item ${job.first} of job ${job.jobId}`;
      this.release(seq);
      answerAll(waiting, {
        kind: 'failed',
        unrecoverable: true,
        error: {
          code: ErrorCodes.INPUT_NOT_JSON,
          message: `The input of ${which} of "${this.options.bundle.name}" cannot be sent to its runtime (${(err as Error).message}). Inputs must be plain JSON, not nested thousands of levels deep.`,
        },
      });
    }
  }

  private hold(waiting: Waiting): number {
    const seq = this.nextSeq++;
    this.pending.set(seq, waiting);
    this.photons += waiting.job.inputs.length;
    this.jobs.set(waiting.job.jobId, (this.jobs.get(waiting.job.jobId) ?? 0) + 1);
    return seq;
  }

  private release(seq: number): Waiting | undefined {
    const waiting = this.pending.get(seq);
    if (!waiting) return undefined;
    this.pending.delete(seq);
    this.photons -= waiting.job.inputs.length;
    const { jobId } = waiting.job;
    const left = this.jobs.get(jobId)! - 1;
    if (left === 0) this.jobs.delete(jobId);
    else this.jobs.set(jobId, left);
    return waiting;
  }

  /** Cancels a job, or every item of a chunk job, running here. */
  cancel(jobId: string, reason: string): boolean {
    if (!this.jobs.has(jobId)) return false;
    this.post({ type: 'cancel', jobId, reason });
    return true;
  }

  /** Whether the photon `<jobId>` or chunk item `<jobId>#<index>` runs here. */
  private holds(photonJobId: string): boolean {
    if (this.jobs.has(photonJobId)) return true;
    const hash = photonJobId.lastIndexOf('#');
    return hash > 0 && this.jobs.has(photonJobId.slice(0, hash));
  }

  /** Samples event-loop utilisation since the last call. */
  sampleElu(): number {
    if (this.state !== 'ready' || !this.worker) return this.elu;
    const now = this.worker.performance.eventLoopUtilization();
    this.elu = this.lastElu ? this.worker.performance.eventLoopUtilization(now, this.lastElu).utilization : 0;
    this.lastElu = now;
    return this.elu;
  }

  /** Stops the thread as a fault. Jobs still in it are answered `runtime-died` with the reason. */
  async kill(reason: string): Promise<void> {
    if (this.state === 'dead') return;
    this.state = 'closing';
    this.exitReason ??= { code: ErrorCodes.RUNTIME_DIED, message: reason };
    if (this.worker) {
      // A fault ends a shared thread with all in it; a retirement only takes this function out of it.
      await this.worker.terminate(!this.retiring);
      return;
    }
    // Still waiting for a boot slot: no thread to stop, it just leaves the line.
    this.claim?.cancel();
    this.onExit();
  }

  /** Stops the thread on purpose (idle past keep-alive, shutdown). */
  async retire(): Promise<void> {
    this.retiring = true;
    await this.kill(`The runtime of "${this.options.bundle.name}" was retired.`);
  }

  private post(message: HostMessage): void {
    if (this.state === 'dead' || !this.worker) return;
    this.worker.postMessage(message);
  }

  private onMessage(message: RuntimeMessage): void {
    // Every message is a sign of life, 'ready' above all: the pings sent while the function loaded
    // are answered only after it, and the silence of a long load (judged by startTimeoutMs) must not
    // count against watchdogMs once the runtime holds jobs, or it is killed as blocked right away.
    this.lastHeard = Date.now();
    switch (message.type) {
      case 'ready':
        this.claim?.booted();
        this.state = 'ready';
        this.readyAt = Date.now();
        this.config = message.config;
        this.initMs = message.initMs;
        this.baseHeap = message.heapUsed;
        this.readHeap(message);
        this.options.onReady(this);
        break;
      case 'init-failed':
        this.claim?.booted();
        this.initError = message.error;
        this.exitReason = message.error;
        void this.worker?.terminate();
        break;
      case 'results':
        for (const answer of message.answers) this.release(answer.seq)?.resolve(answer.items);
        this.readHeap(message);
        if (this.pending.size === 0) this.idleSince = Date.now();
        this.options.onAnswers(this);
        break;
      case 'progress':
        if (this.holds(message.jobId)) this.options.onProgress(message.jobId, message.value);
        break;
      case 'pong':
        this.readHeap(message);
        break;
      case 'results-page':
        void this.answerResultsPage(message);
        break;
    }
  }

  /** ctx.results() of a job in flight: the page read from Redis, or why not. See ARCHITECTURE.md, "Map-reduce". */
  private async answerResultsPage({ requestId, jobId, runId, from }: Extract<RuntimeMessage, { type: 'results-page' }>): Promise<void> {
    let answer: Extract<HostMessage, { type: 'results-page' }>;
    try {
      if (!this.holds(jobId)) throw new PhotonsError(ErrorCodes.USAGE, `Job ${jobId} is no longer running here.`);
      if (!this.options.readResults) {
        throw new PhotonsError(
          ErrorCodes.USAGE,
          'ctx.results() reads a map run in Redis: this runtime has none (photons run). Run the reduce through a dispatcher.',
        );
      }
      answer = { type: 'results-page', requestId, page: await this.options.readResults(runId, from) };
    } catch (err) {
      // Anything but our own refusals is Redis failing the read.
      const error = err instanceof PhotonsError ? err : new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `Reading run ${runId}: ${(err as Error).message}`);
      answer = { type: 'results-page', requestId, error: { code: error.code, message: error.message } };
    }
    this.post(answer);
  }

  private readHeap(reading: HeapReading): void {
    this.heapUsed = reading.heapUsed;
    this.heapLimit = reading.heapLimit;
    // The base read at 'ready' still holds the load's garbage; once a GC has run, the heap with
    // photons in flight can sit below it for minutes, and every growth would read 0: no heap per
    // photon for admission, no memory saved shown. Until a growth is measured, such a reading is
    // the truer base. (Lowered on every reading, the base left the growth mid-run all garbage: the
    // estimate rose sixfold in bench io, to 93 KB a photon, where the whole dispatcher held 27 KB of
    // RSS a photon.)
    if (reading.heapUsed < this.baseHeap && this.heapPerPhoton === 0) this.baseHeap = reading.heapUsed;
    if (reading.inFlight > 0 && this.baseHeap > 0) {
      // Moving averages of the heap growth and of the photons, divided: a reading with few photons
      // and much garbage left by many (the next GC not yet run) weighs as little as its photons do,
      // instead of making every photon look megabytes big.
      const growth = Math.max(0, reading.heapUsed - this.baseHeap);
      const first = this.photonsAverage === 0;
      this.growthAverage = first ? growth : 0.8 * this.growthAverage + 0.2 * growth;
      this.photonsAverage = first ? reading.inFlight : 0.8 * this.photonsAverage + 0.2 * reading.inFlight;
      this.heapPerPhoton = this.growthAverage / this.photonsAverage;
    }
  }

  private checkAlive(): void {
    if (this.state === 'dead' || this.state === 'closing') return;
    // Waiting for a boot slot is not silence: the start allowance counts from the thread's start.
    if (!this.worker) return;
    const silentMs = Date.now() - this.lastHeard;
    // Loading gets its own allowance: many threads booting at once on few cores are slow, not stuck.
    const starting = this.state === 'starting';
    const limitMs = starting ? this.options.startTimeoutMs : this.options.watchdogMs;
    if (silentMs > limitMs) {
      this.options.logger.warn({ runtimeId: this.id, silentMs, starting }, 'runtime event loop blocked: replacing the runtime');
      void this.kill(
        starting
          ? `Function "${this.options.bundle.name}" (${path.basename(this.options.bundle.file)}) did not finish loading within ${limitMs} ms (runtime.startTimeoutMs): its module top level probably loops or blocks.`
          : `The runtime of "${this.options.bundle.name}" stopped answering while running jobs: its event loop was blocked for more than ${limitMs} ms (watchdogMs). A job probably loops without awaiting.`,
      );
      return;
    }
    this.post({ type: 'ping', seq: ++this.pingSeq });
  }

  /** `exitCode`: the thread's own, when it ended by itself (a shared thread's lease gives none). */
  private onExit(exitCode?: number): void {
    if (this.state === 'dead') return;
    this.claim?.booted();
    this.state = 'dead';
    clearInterval(this.watchdog);
    // Whatever its photons left in their temporary folders, a crash or a terminate included.
    rmSync(this.tmpdir, { recursive: true, force: true, maxRetries: 2 });
    // No crash, no heap exhausted, not stopped by us: the thread ended itself, with process.exit().
    const why =
      exitCode === undefined
        ? ''
        : ` with exit code ${exitCode}: the function, or a package it loads, called process.exit(). Return a result or throw an error instead`;
    const reason = this.exitReason ?? { code: ErrorCodes.RUNTIME_DIED, message: `The runtime of "${this.options.bundle.name}" exited unexpectedly${why}.` };
    // Dying before the function loaded (a top level that loops, or exhausts the heap) is the
    // function's fault, not a job's: the pool then fails its jobs instead of restarting for ever.
    if (this.readyAt === undefined && !this.retiring) this.initError ??= { ...reason, code: ErrorCodes.FUNCTION_INIT };
    const held = [...this.pending.values()];
    this.pending.clear();
    this.jobs.clear();
    this.photons = 0;
    for (const waiting of held) answerAll(waiting, { kind: 'runtime-died', error: reason });
    this.options.onExit(this, this.retiring ? null : reason);
  }
}
