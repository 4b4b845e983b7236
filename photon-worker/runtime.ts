// Inside a runtime thread: compiles the function once, then runs each input of a request (a job, or
// a chunk job's items) as a photon and answers the request once all are answered. Answers finished
// in the same turn of the event loop travel in one message.
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError, type ErrorCode } from '../errors';
import { AnswerOutbox } from './answer-outbox';
import { JobContext, RuntimeServices } from './context';
import { settleWithin } from './esm';
import { jobOfPromise, jobScope, currentJobId, type ScopeMark } from './job-scope';
import { OutcomeEncoder, isThenable } from './outcomes';
import { FunctionCode, PhotonConsole, type ModuleInstance } from './photon';
import { setTimerThrowHandler, settleTimers } from './photon-timers';
import { SafeMap, SafeSet, performanceNow, promiseResolve, promiseThen, realClearTimeout, realSetTimeout } from './primordials';
import { protectBuiltins, restoreObjectConstructor } from './protect-builtins';
import {
  bundlePath,
  photonJobId,
  type HeapReading,
  type HostMessage,
  type ItemOutcome,
  type JobRequest,
  type RuntimeMessage,
  type RuntimeStartup,
} from './protocol';
import { ResultsPager } from './results-pager';
import { RuntimeLog } from './runtime-log';
import { StackMapper } from './stack';

export class PhotonRuntime {
  private readonly services: RuntimeServices;
  private readonly pager: ResultsPager;
  private readonly stack: StackMapper;
  private readonly outcomes: OutcomeEncoder;
  private readonly outbox: AnswerOutbox;
  private readonly logs: RuntimeLog;
  private code: FunctionCode | undefined;
  /** The one module instance of `shared` and `lambda` modes; a probe in `photon` mode. */
  private instance: ModuleInstance | undefined;
  private nextPhotonId = 1;
  private readonly inFlight = new SafeMap<string, JobContext>();
  /** The job scope of each job in flight: its timers ride on it. */
  private readonly marks = new SafeMap<string, ScopeMark>();
  /** Photons waiting for their module's top-level await. */
  private readonly loading = new SafeSet<JobContext>();

  constructor(
    private readonly startup: RuntimeStartup,
    private readonly post: (message: RuntimeMessage) => void,
  ) {
    this.pager = new ResultsPager(post);
    this.logs = new RuntimeLog(startup, () => this.instance?.config.jobLogLevel);
    this.services = new RuntimeServices(
      startup.functionName,
      () => this.log,
      (ctx) => this.logs.forJob(ctx),
      (jobId, value) => this.post({ type: 'progress', jobId, value }),
      (jobId, input) => this.pager.results(jobId, input),
    );
    this.stack = new StackMapper(bundlePath(startup.file), startup.sourceMap);
    this.outcomes = new OutcomeEncoder(this.stack, startup.functionName, startup.file);
    this.outbox = new AnswerOutbox(post, () => this.heap(), this.outcomes);
    setTimerThrowHandler((err, jobId) => this.log.error({ err, origin: 'timer', jobId }, `a timer of job ${jobId} threw; the runtime keeps serving`));
  }

  private get where(): string {
    return this.outcomes.where;
  }

  private get log(): Logger {
    return this.logs.root;
  }

  start(): void {
    const started = performanceNow();
    let loaded: ModuleInstance | Promise<ModuleInstance>;
    try {
      this.code = new FunctionCode(this.startup.functionName, this.startup.file, this.startup.code);
      // Every mode loads the module once at start: it checks the default export and the config
      // before any job is taken, and in `shared` and `lambda` modes it is the instance jobs use.
      // In `photon` mode that first load gets a view of its own too, so nothing it writes at top
      // level reaches the real global that every photon reads through.
      loaded =
        this.startup.mode === 'photon'
          ? this.code.load(this.code.globalView(), new PhotonConsole(() => this.log) as unknown as Console)
          : this.code.load(globalThis, console);
    } catch (err) {
      this.initFailed(err);
      return;
    }
    if (!(loaded instanceof Promise)) return this.ready(loaded, started);
    // Top-level await: a top level that never settles must not keep the runtime starting for ever.
    settleWithin(loaded, this.startup.defaultTimeoutMs, () => this.topLevelTooLong(this.startup.defaultTimeoutMs, 'while the runtime started')).then(
      (instance) => this.ready(instance, started),
      (err: unknown) => this.initFailed(err),
    );
  }

  private ready(instance: ModuleInstance, started: number): void {
    this.instance = instance;
    if (instance.config.protectBuiltins !== false) this.protect();
    this.post({ type: 'ready', config: instance.config, initMs: performanceNow() - started, ...this.heap() });
  }

  private initFailed(err: unknown): void {
    this.post({ type: 'init-failed', error: this.stack.serialize(err, this.where, ErrorCodes.FUNCTION_INIT) });
  }

  /** A module whose top-level await outlasts a job's time: say where one-time set-up belongs. */
  private topLevelTooLong(ms: number, when: string, code: ErrorCode = ErrorCodes.FUNCTION_INIT): PhotonsError {
    return new PhotonsError(
      code,
      `Function ${this.where}: its module top level (top-level await) was still running after ${ms} ms ${when}. Every job runs the top level afresh: move one-time set-up (a model, a client, a download) into \`await ctx.shared('key', init)\` inside the handler, and keep the top level quick.`,
    );
  }

  handle(message: HostMessage): void {
    switch (message.type) {
      case 'batch':
        for (const { seq, job } of message.requests) this.runRequest(seq, job);
        break;
      case 'cancel':
        this.cancel(message.jobId, message.reason);
        break;
      case 'ping':
        this.post({ type: 'pong', seq: message.seq, ...this.heap() });
        break;
      case 'results-page':
        this.pager.answer(message);
        break;
    }
  }

  /**
   * After the first load: the function module and the packages it loaded have run their top level
   * (polyfills included), so the builtins can be frozen for the jobs.
   */
  private protect(): void {
    protectBuiltins();
    this.code!.protectGlobalBase();
  }

  /**
   * Logs what a photon let escape (a throw in a timer, an unawaited rejection), with its job when it
   * can be told: one job's bug must not end the others.
   */
  onEscapedError(err: unknown, origin: string, promise?: unknown): void {
    const jobId = (promise === undefined ? undefined : jobOfPromise(promise)) ?? currentJobId();
    this.log.error(
      { err, origin, jobId },
      jobId === undefined
        ? 'a photon let an error escape its job; the runtime keeps serving'
        : `job ${jobId} let an error escape (${origin}); the runtime keeps serving`,
    );
  }

  /**
   * Runs each input of a request as a photon; the request is answered once every one is. Its inputs
   * start together and share one timeout, so a chunk's items share one timer.
   */
  private runRequest(seq: number, job: JobRequest): void {
    const items = new Array<ItemOutcome>(job.inputs.length);
    let left = items.length;
    if (left === 0) return this.outbox.send({ seq, items });
    const timeoutMs = job.timeoutMs ?? this.instance?.config.timeoutMs ?? this.startup.defaultTimeoutMs;
    const deadline = performanceNow() + timeoutMs;
    const photons = new Array<JobContext>(items.length);
    const timer = realSetTimeout(() => {
      for (const ctx of photons) if (this.inFlight.get(ctx.jobId) === ctx) this.settleEarly(ctx.jobId, this.timedOut(ctx, timeoutMs));
    }, timeoutMs);
    for (let i = 0; i < items.length; i++) {
      const ctx = new JobContext(this.services, photonJobId(job, i), this.nextPhotonId++, job.attempt, job.inputs[i]);
      ctx.deadline = deadline;
      ctx.answered = (outcome) => {
        items[i] = outcome;
        if (--left > 0) return;
        realClearTimeout(timer);
        this.outbox.send({ seq, items });
      };
      photons[i] = ctx;
      this.run(ctx, job.inputs[i]);
    }
  }

  private timedOut(ctx: JobContext, timeoutMs: number): PhotonsError {
    if (this.loading.has(ctx)) return this.topLevelTooLong(timeoutMs, `in job ${ctx.jobId}, which reached its timeout`, ErrorCodes.TIMEOUT);
    return new PhotonsError(
      ErrorCodes.TIMEOUT,
      `Function "${this.startup.functionName}" (${this.startup.file}) ran past its timeout of ${timeoutMs} ms (job ${ctx.jobId}). Raise config.timeoutMs or make the handler honour ctx.signal.`,
    );
  }

  /**
   * Runs one photon in its job scope. A handler that returns a plain value is answered at once:
   * no promise is made for it, each of which costs the scope's promise hooks.
   */
  private run(ctx: JobContext, input: unknown): void {
    this.inFlight.set(ctx.jobId, ctx);
    const mark: ScopeMark = { jobId: ctx.jobId };
    this.marks.set(ctx.jobId, mark);
    const outcome = jobScope.run(mark, () => this.answer(ctx, input));
    if (outcome instanceof Promise) void promiseThen(outcome, (settled) => this.settle(ctx, settled));
    else this.settle(ctx, outcome);
  }

  private answer(ctx: JobContext, input: unknown): ItemOutcome | Promise<ItemOutcome> {
    try {
      const instance = this.instanceFor(ctx);
      // Only a module with top-level await gives a promise: the others stay synchronous here.
      if (instance instanceof Promise) return this.answerWhenLoaded(ctx, instance, input);
      const value = instance.handler(input, ctx);
      if (!isThenable(value)) return this.outcomes.encode(ctx.jobId, value);
      return promiseThen(
        value instanceof Promise ? value : promiseResolve(value),
        (resolved) => this.outcomes.encode(ctx.jobId, resolved),
        (err: unknown) => this.outcomes.failure(err),
      );
    } catch (err) {
      return this.outcomes.failure(err);
    }
  }

  private async answerWhenLoaded(ctx: JobContext, loading: Promise<ModuleInstance>, input: unknown): Promise<ItemOutcome> {
    this.loading.add(ctx);
    let instance: ModuleInstance;
    try {
      instance = await loading;
    } catch (err) {
      return this.outcomes.failure(err);
    } finally {
      this.loading.delete(ctx);
    }
    try {
      return this.outcomes.encode(ctx.jobId, await instance.handler(input, ctx));
    } catch (err) {
      return this.outcomes.failure(err);
    }
  }

  /** In photon mode a fresh module instance, with the job's own global view and console. */
  private instanceFor(ctx: JobContext): ModuleInstance | Promise<ModuleInstance> {
    if (this.startup.mode !== 'photon') return this.instance!;
    const code = this.code!;
    return code.load(code.globalView(), new PhotonConsole(() => ctx.log) as unknown as Console);
  }

  /** Clears the timers the job's own code left running, saying so once. */
  private clearTimers(jobId: string): void {
    const mark = this.marks.get(jobId);
    if (!mark) return;
    this.marks.delete(jobId);
    const cleared = settleTimers(mark);
    if (cleared > 0) this.log.info({ jobId, cleared }, `cleared ${cleared} timer(s) job ${jobId} left running`);
  }

  /** Cancels a job's photon, or each item of a chunk job (`<jobId>#<index>`). */
  private cancel(jobId: string, reason: string): void {
    const error = new PhotonsError(ErrorCodes.CANCELLED, reason);
    const items = `${jobId}#`;
    for (const id of [...this.inFlight.keys()]) if (id === jobId || id.startsWith(items)) this.settleEarly(id, error);
  }

  /** Answers a photon before its handler returns (timeout, cancel); the handler's late answer is dropped. */
  private settleEarly(jobId: string, reason: PhotonsError): void {
    const ctx = this.inFlight.get(jobId);
    if (!ctx) return;
    ctx.abort(reason);
    // A cancelled job is not retried; a timed-out one may be, by its attempts.
    const unrecoverable = reason.code === ErrorCodes.CANCELLED;
    this.settle(ctx, { kind: 'failed', error: this.stack.serialize(reason, this.where), unrecoverable });
  }

  private settle(ctx: JobContext, outcome: ItemOutcome): void {
    if (this.inFlight.get(ctx.jobId) !== ctx) return;
    this.inFlight.delete(ctx.jobId);
    this.clearTimers(ctx.jobId);
    if (restoreObjectConstructor()) this.log.warn({ jobId: ctx.jobId }, `Object.prototype.constructor was changed while job ${ctx.jobId} ran; put back`);
    ctx.release();
    if (ctx.logLines && ctx.logLines.lines.length > 0) outcome.logs = ctx.logLines.take();
    ctx.answered!(outcome);
  }

  private heap(): HeapReading {
    const stats = getHeapStatistics();
    return { heapUsed: stats.used_heap_size, heapLimit: stats.heap_size_limit, inFlight: this.inFlight.size };
  }
}
