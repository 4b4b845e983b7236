// The runtimes of one function and the policy that places jobs on them (ARCHITECTURE.md, "Scheduling"):
// pack into a warm runtime with free photon slots and heap headroom before starting a new one,
// spread when the busy runtimes' event loops stay saturated, retire runtimes idle past keep-alive.
//
// Why not piscina (measured: `npx photons bench pool`, figures in the README's Performance section):
// piscina 5 given the same limits, a packing loadBalancer (the busiest thread with a free slot;
// null makes piscina start a thread, up to maxThreads) and the same photon runtime in each thread
// started no more threads and lost no job to a thread that ran out of heap, but its threads held
// more heap with 1,000 jobs in flight (19.4 against 18.5 MB: per-task bookkeeping, and the adapter a
// photon runtime needs behind piscina's one call per task, where this pool sends one message per
// batch), its fixed slots per thread answered that burst five times later than slots that follow
// memory, and its CPU-bound throughput and p99 were not within 5 % of this pool's. It also needed a second pool (one task per thread)
// to run a job present at a death alone, as dispatcher/job-runner.ts asks, and that pool reuses its
// threads where this one gives each such job a fresh runtime. Heap admission and spreading on
// event-loop utilisation (dispatcher/placement.ts) would still be ours: piscina's balancer sees
// only a task count per thread. So the pool stays on node:worker_threads directly
// (photon-worker/protocol.ts is the whole interface).
import { ErrorCodes, type SerializedError } from '../errors';
import type { JobRequest } from '../photon-worker/protocol';
import type { FunctionConfig } from '../photon-worker/types';
import type { PoolOptions } from './pool-options';
import { capacity, FIRST_SLOTS, grownSlots, pickRuntime, room, runtimesToStart, shouldRetire, shouldSpread, type PlacementPolicy } from './placement';
import { JobQueue } from './job-queue';
import { Runtime } from './runtime';
import { answerAll, split, type JobOutcome, type Waiting } from './waiting';
import { PoolCounters, type PoolStats } from './pool-stats';

/** A job present at this many runtime deaths is failed as poison. */
export const POISON_DEATHS = 2;
const TICK_MS = 250;
/** A runtime takes new photons while its heap stays under this share of its limit. */
const HEAP_HEADROOM = 0.8;
/** How long a failed function load is remembered before the next job tries again. */
const INIT_RETRY_MS = 5_000;

export class RuntimePool {
  private readonly runtimes = new Set<Runtime>();
  /** Runtimes each holding one suspect job (one present at an earlier runtime death). */
  private readonly soloRuntimes = new Set<Runtime>();
  /** Requests waiting for room, weighed by their inputs (a chunk's items are photons each). */
  private readonly queue = new JobQueue<Waiting>((w) => w.job.inputs.length, split);
  private soloQueue: Waiting[] = [];
  private nextRuntimeId = 1;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /**
   * The last flush left jobs queued: no runtime had room. Until a runtime answers, starts or exits,
   * flushing on every submit would find none either, so submits wait for the timer's flush
   * (ARCHITECTURE.md, "Scheduling").
   */
  private waitingForRoom = false;
  private readonly tick: NodeJS.Timeout;
  private config: FunctionConfig | undefined;
  private initFailure: { error: SerializedError; at: number } | undefined;
  private closed = false;
  /** Set by retireWhenIdle: resolves once the last job is answered and the runtimes are gone. */
  private retired: { resolve: () => void; promise: Promise<void> } | undefined;
  private readonly counters = new PoolCounters();
  private ticks = 0;
  /** Photon slots per runtime when neither the function nor the process config fixes them. */
  private adaptiveSlots = FIRST_SLOTS;

  constructor(private readonly options: PoolOptions) {
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    this.tick.unref();
    options.idleBudget?.add(this);
  }

  get functionName(): string {
    return this.options.bundle.name;
  }

  /** The function's own config, once a runtime has loaded it. */
  get functionConfig(): FunctionConfig | undefined {
    return this.config;
  }

  /**
   * Runs a request (a job, or a chunk job's items) and answers once every input is answered, in
   * their order. `solo` requests (present at an earlier runtime death) run alone in a fresh
   * runtime, so that a job that kills its runtime takes no innocent neighbour with it a second time.
   */
  submit(job: JobRequest, solo = false): Promise<JobOutcome[]> {
    return new Promise<JobOutcome[]>((resolve) => {
      const waiting: Waiting = { job, resolve };
      // A chunk job of no items (a plain BullMQ producer can add one) has nothing to wait for.
      if (job.inputs.length === 0) return resolve([]);
      const failure = this.initFailure;
      if (failure && Date.now() - failure.at < INIT_RETRY_MS) return answerAll(waiting, { kind: 'failed', error: failure.error, unrecoverable: true });
      if (this.closed) return answerAll(waiting, { kind: 'runtime-died', error: this.closedError() });
      waiting.resolve = this.counters.counted(resolve);
      if (solo) {
        this.soloQueue.push(waiting);
        this.placeSolo();
      } else {
        this.queue.push(waiting);
        this.scheduleFlush();
      }
    });
  }

  /** Cancels a job, or every item of a chunk job, queued or running. */
  cancel(jobId: string, reason: string): boolean {
    const matches = (w: Waiting): boolean => w.job.jobId === jobId;
    const cancelled = [...this.queue.removeWhere(matches), ...this.soloQueue.filter(matches)];
    this.soloQueue = this.soloQueue.filter((w) => !matches(w));
    for (const waiting of cancelled) answerAll(waiting, { kind: 'failed', error: { code: ErrorCodes.CANCELLED, message: reason }, unrecoverable: true });
    let found = cancelled.length > 0;
    for (const runtime of [...this.runtimes, ...this.soloRuntimes]) found = runtime.cancel(jobId, reason) || found;
    return found;
  }

  /** Runtimes ready and holding no job: what the dispatcher's idle budget may retire. */
  idleRuntimes(): Runtime[] {
    return [...this.runtimes].filter((r) => r.state === 'ready' && r.inFlight === 0);
  }

  /**
   * How many more jobs the pool can take now without queueing them: free photon slots of its
   * runtimes (heap permitting) and of those starting, or a first runtime's worth. The queue
   * workers fetch no further, so jobs the pool cannot run yet wait in Redis.
   */
  freeRoom(): number {
    if (this.closed || this.retired) return 0;
    const policy = this.policy();
    let total = capacity(this.runtimes, policy);
    if (this.fixedSlots() !== undefined) {
      // Fixed slots (lambda mode, an explicit photonsPerRuntime): more runtimes take what one cannot,
      // up to maxRuntimes. Slots that follow memory grow instead (pack before spreading).
      let live = 0;
      for (const runtime of this.runtimes) if (runtime.state === 'ready' || runtime.state === 'starting') live++;
      total += Math.max(0, policy.maxRuntimes - Math.max(1, live)) * policy.slots;
    }
    return total - this.load();
  }

  /** Jobs running or queued here. */
  load(): number {
    let inFlight = this.queued();
    for (const runtime of this.runtimes) inFlight += runtime.inFlight;
    for (const runtime of this.soloRuntimes) inFlight += runtime.inFlight;
    return inFlight;
  }

  /**
   * Heap this pool holds, measured where it can be: each runtime's heap in use (or its base heap
   * plus its photons at the measured size, whichever is larger, since readings lag), and the queued
   * jobs at that size. `perPhoton` is 0 until a runtime has measured it.
   */
  memory(): { usedBytes: number; perPhotonBytes: number } {
    let usedBytes = 0;
    let perPhoton = 0;
    for (const runtime of [...this.runtimes, ...this.soloRuntimes]) {
      perPhoton = Math.max(perPhoton, runtime.heapPerPhoton);
      usedBytes += Math.max(runtime.heapUsed, runtime.baseHeap + runtime.inFlight * runtime.heapPerPhoton);
    }
    usedBytes += this.queued() * perPhoton;
    return { usedBytes, perPhotonBytes: perPhoton };
  }

  stats(): PoolStats {
    return this.counters.snapshot(this.functionName, this.options.mode, [...this.runtimes, ...this.soloRuntimes], this.queued());
  }

  /** Photons waiting for room: the inputs of the queued requests. */
  private queued(): number {
    let inputs = this.queue.weight;
    for (const waiting of this.soloQueue) inputs += waiting.job.inputs.length;
    return inputs;
  }

  /**
   * For a version replaced by a deploy: the jobs it holds finish here, then its runtimes retire.
   * It gets no new jobs (the dispatcher sends them to the new version's pool).
   */
  retireWhenIdle(): Promise<void> {
    if (!this.retired) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.retired = { resolve, promise };
      this.closeIfRetiredAndIdle();
    }
    return this.retired.promise;
  }

  private closeIfRetiredAndIdle(): void {
    if (!this.retired || this.queue.length + this.soloQueue.length > 0) return;
    for (const runtime of [...this.runtimes, ...this.soloRuntimes]) if (runtime.inFlight > 0) return;
    void this.close().then(this.retired.resolve);
  }

  /** Retires every runtime; jobs still queued or running are answered `runtime-died`. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.tick);
    this.options.idleBudget?.delete(this);
    this.clearFlush();
    const error = this.closedError();
    for (const waiting of [...this.queue.drain(), ...this.soloQueue]) answerAll(waiting, { kind: 'runtime-died', error });
    this.soloQueue = [];
    await Promise.all([...this.runtimes, ...this.soloRuntimes].map((r) => r.retire()));
  }

  private closedError(): SerializedError {
    return { code: ErrorCodes.RUNTIME_DIED, message: `The runtimes of "${this.functionName}" are shutting down.` };
  }

  private scheduleFlush(): void {
    if (this.queue.weight >= this.options.batchSize && !this.waitingForRoom) {
      this.clearFlush();
      this.flush();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = this.options.batchLingerMs > 0 ? setTimeout(() => this.flush(), this.options.batchLingerMs) : setImmediate(() => this.flush());
  }

  private clearFlush(): void {
    if (!this.flushTimer) return;
    clearTimeout(this.flushTimer as NodeJS.Timeout);
    clearImmediate(this.flushTimer as NodeJS.Immediate);
    this.flushTimer = undefined;
  }

  /** Places queued jobs on runtimes with room, one batch message per runtime. */
  private flush(): void {
    this.flushTimer = undefined;
    if (this.closed) return;
    const policy = this.policy();
    while (this.queue.length > 0) {
      const runtime = pickRuntime(this.runtimes, policy, this.queue.weight > this.options.batchSize);
      if (!runtime) break;
      // Room in photons, at most a batch's worth of requests: a chunk's items may fill it alone.
      runtime.run(this.queue.take(room(runtime, policy), this.options.batchSize));
    }
    this.waitingForRoom = this.queue.length > 0;
    if (this.waitingForRoom) this.startRuntimesFor(this.queue.weight);
  }

  private slots(): number {
    return this.fixedSlots() ?? this.adaptiveSlots;
  }

  /** Slots fixed by the mode, the function's config or the process config (0 there: they follow memory). */
  private fixedSlots(): number | undefined {
    if (this.options.mode === 'lambda') return 1;
    return this.config?.photonsPerRuntime ?? (this.options.photonsPerRuntime > 0 ? this.options.photonsPerRuntime : undefined);
  }

  /** The policy of dispatcher/placement.ts with this pool's numbers. */
  private policy(): PlacementPolicy {
    return {
      slots: this.slots(),
      maxRuntimes: this.options.maxRuntimes,
      eluHigh: this.options.eluHigh,
      heapHeadroom: HEAP_HEADROOM,
      keepAliveMs: this.options.keepAliveMs,
    };
  }

  /** Starts runtimes until those starting can take `waiting` jobs, up to the maximum. */
  private startRuntimesFor(waiting: number): void {
    for (let n = runtimesToStart(this.runtimes, waiting, this.policy()); n > 0; n--) this.startRuntime(this.runtimes);
  }

  private startRuntime(into: Set<Runtime>): Runtime {
    this.counters.coldStarts++;
    const runtime = new Runtime({
      id: this.nextRuntimeId++,
      bundle: this.options.bundle,
      mode: this.options.mode,
      memoryMb: this.config?.memoryMb ?? this.options.memoryMb,
      watchdogMs: this.options.watchdogMs,
      startTimeoutMs: this.options.startTimeoutMs,
      defaultTimeoutMs: this.options.defaultTimeoutMs,
      logLevel: this.options.logLevel,
      jobLogLevel: this.options.jobLogLevel,
      logger: this.options.logger,
      onProgress: (jobId, value) => this.options.onProgress?.(jobId, value),
      readResults: this.options.readResults,
      onReady: (r) => this.onRuntimeReady(r, into),
      onAnswers: (r) => this.onRuntimeAnswers(r, into),
      onExit: (r, reason) => this.onRuntimeExit(r, into, reason),
      spares: this.options.spares,
      // A suspect job runs alone in a thread of its own, never beside other functions.
      shared: into === this.soloRuntimes || this.options.mode !== 'photon' ? undefined : this.options.shared,
      logFd: this.options.logFd,
    });
    into.add(runtime);
    return runtime;
  }

  private onRuntimeReady(runtime: Runtime, into: Set<Runtime>): void {
    const first = this.config === undefined;
    this.config = runtime.config;
    this.initFailure = undefined;
    this.options.logger.debug({ runtimeId: runtime.id, initMs: Math.round(runtime.initMs) }, 'runtime ready');
    const memoryMb = runtime.config.memoryMb;
    if (first && memoryMb !== undefined && memoryMb !== this.options.memoryMb) {
      // The heap limit is fixed when a thread starts, and the function's own limit is only known
      // once it has loaded: the first runtime makes way for one of the right size.
      void runtime.retire();
      if (into === this.soloRuntimes) this.placeSolo();
      else this.startRuntimesFor(Math.max(1, this.queue.weight));
      return;
    }
    if (into === this.soloRuntimes) this.placeSolo();
    else this.flush();
  }

  private onRuntimeAnswers(runtime: Runtime, into: Set<Runtime>): void {
    if (into === this.soloRuntimes) {
      if (runtime.inFlight === 0) void runtime.retire();
      return;
    }
    if (this.queue.length > 0) this.flush();
  }

  private onRuntimeExit(runtime: Runtime, into: Set<Runtime>, reason: SerializedError | null): void {
    into.delete(runtime);
    if (reason) {
      if (runtime.initError) {
        // The function does not load: every queued job would fail the same way.
        this.initFailure = { error: runtime.initError, at: Date.now() };
        for (const waiting of [...this.queue.drain(), ...this.soloQueue]) answerAll(waiting, { kind: 'failed', error: runtime.initError, unrecoverable: true });
        this.soloQueue = [];
        this.options.logger.error({ err: runtime.initError }, 'function failed to load');
        return;
      }
      this.counters.runtimeDeaths++;
      this.options.logger.warn({ runtimeId: runtime.id, reason: reason.message }, 'runtime died');
    }
    if (this.closed) return;
    if (into === this.soloRuntimes) this.placeSolo();
    else if (this.queue.length > 0) this.flush();
  }

  private placeSolo(): void {
    if (this.closed) return;
    for (const runtime of this.soloRuntimes) {
      if (runtime.state === 'ready' && runtime.inFlight === 0 && this.soloQueue.length > 0) {
        runtime.run([this.soloQueue.shift()!]);
      }
    }
    let idleOrStarting = 0;
    for (const runtime of this.soloRuntimes) if (runtime.state === 'starting') idleOrStarting++;
    while (this.soloQueue.length > idleOrStarting && this.soloRuntimes.size < Math.max(1, this.options.maxRuntimes)) {
      this.startRuntime(this.soloRuntimes);
      idleOrStarting++;
    }
  }

  private onTick(): void {
    this.closeIfRetiredAndIdle();
    if (++this.ticks % (1000 / TICK_MS) === 0) this.counters.sample();
    const now = Date.now();
    const policy = this.policy();
    for (const runtime of this.runtimes) {
      runtime.sampleElu();
      if (shouldRetire(runtime, now, policy)) void runtime.retire();
    }
    if (shouldSpread(this.runtimes, this.queue.weight, policy)) this.startRuntime(this.runtimes);
    if (this.fixedSlots() === undefined) {
      const slots = grownSlots(this.runtimes, policy);
      if (slots > this.adaptiveSlots) {
        this.adaptiveSlots = slots;
        this.flush();
      }
    }
  }
}
