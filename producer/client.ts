// The TypeScript client: enqueue jobs into the function queues, wait for results, cancel, and
// fan out over many inputs with map. Everything is checked before anything reaches Redis.
import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { PhotonsConfig } from '../config';
import { CANCEL_CHANNEL } from '../contract/channels';
import { jobKey, photonsKeys, queueName, type PhotonsKeys } from '../contract/keys';
import type { RedisClient } from '../contract/redis';
import type { CancelRequest } from '../contract/wire';
import { ErrorCodes, JobFailedError, PhotonsError } from '../errors';
import { ProducerConnection } from './connection';
import { JobEvents } from './job-events';
import { cancelledError, readJobs, snapshotOf, type Outcome } from '../contract/jobs';
import { reduceJobId } from '../contract/run-results';
import { MapReduceRun } from './map-reduce';
import { readTimeline, type RunTimeline } from './run-timeline';
import { MapRun, incomplete } from './map-run';
import { FunctionRegistry, type FunctionInfo } from './registry';
import { RunStore, HEARTBEAT_STALE_MS, type RunMeta } from './run-store';
import { Schedules, assertScheduleId, checkTiming, type ScheduleInfo, type ScheduleTiming } from './schedules';
import {
  progressState,
  type CancelResult,
  type ClientOptions,
  type EnqueueOptions,
  type InvokeOptions,
  type JobState,
  type JobStatus,
  type MapInputs,
  type MapOptions,
  type ResumeOptions,
  type RunProgress,
} from './types';
import { holdsSameJob } from './job-reuse';
import {
  DEFAULT_MAX_INPUT_DEPTH,
  DEFAULT_OPTION_LIMITS,
  assertJobId,
  assertJson,
  assertRunId,
  checkOptions,
  invalidOption,
  isInputs,
  type OptionKind,
  type OptionLimits,
} from './validate';

const JOB_OPTIONS: Record<string, OptionKind> = {
  jobId: 'custom-job-id',
  attempts: 'attempts',
  backoffMs: 'backoff-ms',
  delayMs: 'delay-ms',
  priority: 'priority',
};
const { jobId: _jobId, ...BULK_OPTIONS } = JOB_OPTIONS;
const INVOKE_OPTIONS: Record<string, OptionKind> = { ...JOB_OPTIONS, timeoutMs: 'positive-int' };
const MAP_OPTIONS: Record<string, OptionKind> = {
  chunkSize: 'positive-int',
  ordered: 'boolean',
  failFast: 'boolean',
  maxInFlight: 'positive-int',
  attempts: 'attempts',
  onProgress: 'function',
};
const RESUME_OPTIONS: Record<string, OptionKind> = { inputs: 'iterable', ordered: 'boolean', maxInFlight: 'positive-int', onProgress: 'function' };
const CLIENT_OPTIONS: Record<string, OptionKind> = {
  resultTtlSec: 'positive-int',
  maxInFlight: 'positive-int',
  maxInputDepth: 'positive-int',
  maxDelayMs: 'positive-int',
  maxAttempts: 'positive-int',
};
const NOT_STARTED: JobState[] = ['waiting', 'delayed', 'prioritized', 'waiting-children'];
const BULK_SLICE = 1_000;

/** A job's end, or none yet when the wait ran out (the job goes on; read it later with result). */
export interface JobSettlement {
  jobId: string;
  fn: string;
  outcome: Outcome | undefined;
}

/** An enqueued job: `existing` when its id was taken by the same job, which was left as it is. */
export interface Submitted {
  jobId: string;
  existing: boolean;
}

export class PhotonsClient {
  readonly prefix: string;
  private readonly keys: PhotonsKeys;
  readonly resultTtlSec: number;
  private readonly cluster: boolean;
  private readonly maxInFlight: number;
  private readonly maxInputDepth: number;
  private readonly limits: OptionLimits;
  private readonly connection: ProducerConnection;
  private readonly queues = new Map<string, Queue>();
  private readonly events: JobEvents;
  private readonly registry: FunctionRegistry;
  private readonly runs: RunStore;
  private readonly scheduleBook: Schedules;
  /** Runs this client enqueues, by id: their progress is live. */
  private readonly live = new Map<string, MapRun>();
  /** Every run this client works on, to detach on close. */
  private readonly runsInProcess = new Set<MapRun>();

  static fromConfig(config: Readonly<PhotonsConfig>): PhotonsClient {
    return new PhotonsClient({
      redisUrl: config.redis.url,
      cluster: config.redis.cluster,
      prefix: config.redis.prefix,
      resultTtlSec: config.producer.resultTtlSec,
      maxInFlight: config.producer.maxInFlight,
      maxInputDepth: config.producer.maxInputDepth,
      maxDelayMs: config.producer.maxDelayMs,
      maxAttempts: config.producer.maxAttempts,
    });
  }

  constructor(options: ClientOptions = {}) {
    const { redisUrl = 'redis://127.0.0.1:6379', cluster = false, prefix = 'bull', ...rest } = options;
    checkOptions(rest, CLIENT_OPTIONS, 'PhotonsClient');
    if (typeof cluster !== 'boolean') throw invalidOption(`options.cluster must be true or false, got ${JSON.stringify(cluster)}`);
    const urls = String(redisUrl).split(',');
    if (!urls.every((url) => /^rediss?:\/\/[^,\s]+$/.test(url.trim()))) {
      throw invalidOption(
        `options.redisUrl must be a URL like redis://host:6379 (for a cluster: one or more, comma-separated), got ${JSON.stringify(redisUrl)}`,
      );
    }
    if (urls.length > 1 && !cluster)
      throw invalidOption('options.redisUrl lists several URLs, which only a Redis Cluster takes: set options.cluster to true, or give one URL');
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(prefix))
      throw invalidOption(`options.prefix must be 1 to 32 letters, digits, '.', '_' or '-', got ${JSON.stringify(prefix)}`);
    this.cluster = cluster;
    this.prefix = prefix;
    this.keys = photonsKeys(prefix);
    this.resultTtlSec = rest.resultTtlSec ?? 86_400;
    this.maxInFlight = rest.maxInFlight ?? 10_000;
    this.maxInputDepth = rest.maxInputDepth ?? DEFAULT_MAX_INPUT_DEPTH;
    this.limits = { maxAttempts: rest.maxAttempts ?? DEFAULT_OPTION_LIMITS.maxAttempts, maxDelayMs: rest.maxDelayMs ?? DEFAULT_OPTION_LIMITS.maxDelayMs };
    this.connection = new ProducerConnection({ url: redisUrl, cluster });
    this.events = new JobEvents(() => this.connection.eventsConnection(), prefix, cluster);
    this.registry = new FunctionRegistry(() => this.connected(), this.keys.functions);
    this.runs = new RunStore(
      () => this.connected(),
      (runId) => this.keys.run(runId),
      this.keys.recentRuns,
    );
    this.scheduleBook = new Schedules({
      redis: () => this.connected(),
      prefix,
      key: this.keys.schedules,
      queue: (fn) => this.queue(fn),
      jobOptions: () => ({ removeOnComplete: { age: this.resultTtlSec }, removeOnFail: { age: this.resultTtlSec } }),
    });
  }

  /**
   * Enqueues one job; resolves with its id once it is in Redis. A jobId already taken by the same
   * function and input resolves with that job's id (nothing is added); taken by another function or
   * input, it throws PHOTONS_ERR_JOB_EXISTS.
   */
  async enqueue(fn: string, input: unknown, options: EnqueueOptions = {}): Promise<string> {
    return (await this.submit(fn, input, options)).jobId;
  }

  /** Like enqueue, and says whether the job was there already. */
  async submit(fn: string, input: unknown, options: EnqueueOptions = {}): Promise<Submitted> {
    checkOptions(options, JOB_OPTIONS, 'enqueue', this.limits);
    const data = input ?? null;
    assertJson(data, 'input', this.maxInputDepth);
    await this.registry.require(fn);
    const { jobId } = options;
    if (jobId === undefined) {
      const job = await this.queue(fn).add(fn, data, this.jobOptions(randomUUID(), options));
      return { jobId: job.id!, existing: false };
    }
    if (await this.holdsSameJob(fn, jobId, data)) return { jobId, existing: true };
    // BullMQ adds nothing for an id it has: if another caller took the id in the meantime, the
    // check after the add tells whether its job is this one.
    await this.queue(fn).add(fn, data, this.jobOptions(jobId, options));
    await this.holdsSameJob(fn, jobId, data);
    return { jobId, existing: false };
  }

  /** Enqueues one job per input; resolves with their ids in input order. */
  async enqueueBulk(fn: string, inputs: unknown[], options: Omit<EnqueueOptions, 'jobId'> = {}): Promise<string[]> {
    checkOptions(options, BULK_OPTIONS, 'enqueueBulk', this.limits);
    if (!Array.isArray(inputs)) throw invalidOption('inputs of enqueueBulk must be an array');
    inputs.forEach((input, i) => assertJson(input ?? null, `inputs[${i}]`, this.maxInputDepth));
    await this.registry.require(fn);
    const queue = this.queue(fn);
    const ids: string[] = [];
    for (let start = 0; start < inputs.length; start += BULK_SLICE) {
      const jobs = inputs.slice(start, start + BULK_SLICE).map((input) => ({ name: fn, data: input ?? null, opts: this.jobOptions(randomUUID(), options) }));
      ids.push(...(await queue.addBulk(jobs)).map((job) => job.id!));
    }
    return ids;
  }

  /** Runs one job and resolves with its result; a failed job rejects with JobFailedError. */
  async invoke<T = unknown>(fn: string, input: unknown, options: InvokeOptions = {}): Promise<T> {
    const { jobId, outcome } = await this.invokeSettled(fn, input, options);
    if (!outcome) {
      throw new PhotonsError(
        ErrorCodes.WAIT_TIMEOUT,
        `Job ${jobId} of "${fn}" has no result after ${options.timeoutMs ?? 60_000} ms; it may still finish: read it with result("${jobId}").`,
      );
    }
    if (!outcome.ok) throw new JobFailedError(fn, jobId, outcome.error);
    return outcome.value as T;
  }

  /** Like invoke, but answers with the job id and its outcome (none if the wait ran out) instead of throwing. */
  async invokeSettled(fn: string, input: unknown, options: InvokeOptions = {}): Promise<JobSettlement> {
    checkOptions(options, INVOKE_OPTIONS, 'invoke', this.limits);
    const { timeoutMs = 60_000, ...enqueueOptions } = options;
    assertJson(input ?? null, 'input', this.maxInputDepth);
    await this.registry.require(fn);
    await this.events.watch(fn);
    const jobId = await this.enqueue(fn, input, enqueueOptions);
    return { jobId, fn, outcome: await this.waitFor(fn, jobId, timeoutMs) };
  }

  /** A job's state, and its result or error once it finished. `fn` saves looking the job up. */
  async result(jobId: string, options: { fn?: string } = {}): Promise<JobStatus> {
    const { fn, cancelled } = await this.locate(jobId, options.fn);
    if (cancelled) return { jobId, fn, state: 'failed', error: cancelledError(`Job ${jobId}`) };
    const queue = this.queue(fn);
    const [state, [fields], version] = await Promise.all([
      queue.getJobState(jobId),
      this.readFields(fn, jobId),
      (await this.connected()).hget(this.keys.versions(fn), jobId).then((version) => version ?? undefined),
    ]);
    if (state === 'unknown') throw notFound(jobId);
    const [timestamp, finishedOn, , , , progress] = fields;
    const status: JobStatus = { jobId, fn, state: state as JobState, createdAt: Number(timestamp) };
    if (progress && progress !== '0') status.progress = JSON.parse(progress) as unknown;
    if (version) status.version = version;
    const snapshot = snapshotOf(fields);
    if (snapshot.exists && snapshot.finished && (state === 'completed' || state === 'failed')) {
      status.finishedAt = Number(finishedOn);
      if (snapshot.outcome.ok) status.value = snapshot.outcome.value;
      else status.error = snapshot.outcome.error;
    }
    return status;
  }

  /** Cancels a job: removed if it has not started, else its handler's ctx.signal fires. */
  async cancel(jobId: string, options: { fn?: string } = {}): Promise<CancelResult> {
    const { fn, cancelled } = await this.locate(jobId, options.fn);
    if (cancelled) return { jobId, fn, outcome: 'removed' };
    const outcome = await this.cancelJob(fn, jobId);
    if (outcome === 'removed') await (await this.connected()).set(this.keys.cancelled(jobId), fn, 'EX', this.resultTtlSec);
    return { jobId, fn, outcome };
  }

  /** Fans out over the inputs: a run whose results arrive by async iteration, each with its index. */
  map<T = unknown>(fn: string, inputs: MapInputs, options: MapOptions = {}): Promise<MapRun<T>> {
    return this.startMap<T>(fn, inputs, options, 'map');
  }

  /**
   * Maps `mapFn` over the inputs, then runs one job of `reduceFn` that reads every result in input
   * order with ctx.results(). The run is followed by this process (resume it by id with resumeMapReduce).
   */
  async mapReduce<R = unknown>(mapFn: string, inputs: MapInputs, reduceFn: string, options: MapOptions = {}): Promise<MapReduceRun<R>> {
    await this.registry.require(reduceFn);
    return this.reduceOf<R>(await this.startMap(mapFn, inputs, options, 'mapReduce', reduceFn), reduceFn);
  }

  /** Takes a map-reduce run up again by id: follows the map to its end and starts the reduce, once whoever starts it. */
  async resumeMapReduce<R = unknown>(runId: string, options: ResumeOptions = {}): Promise<MapReduceRun<R>> {
    assertRunId(runId, 'runId');
    const meta = await this.runs.load(runId);
    if (!meta) throw runNotFound(runId);
    if (!meta.reduce)
      throw invalidOption(`Run ${runId} of "${meta.fn}" is a map without a reduce: resume it with resumeRun (photons map --resume without --reduce).`);
    checkOptions(options, RESUME_OPTIONS, 'resumeMapReduce');
    if (meta.state === 'enqueuing' && !options.inputs && Date.now() - meta.heartbeatAt > HEARTBEAT_STALE_MS) throw incomplete(meta);
    return this.reduceOf<R>(this.startRun(meta, { ...options, failFast: meta.failFast }), meta.reduce);
  }

  private async startMap<T>(fn: string, inputs: MapInputs, options: MapOptions, call: string, reduce?: string): Promise<MapRun<T>> {
    checkOptions(options, MAP_OPTIONS, call, this.limits);
    if (!isInputs(inputs) || typeof inputs === 'string') throw invalidOption(`inputs of ${call} must be an array, an iterable or an async iterable`);
    if (Array.isArray(inputs)) inputs.forEach((input: unknown, i) => assertJson(input ?? null, `inputs[${i}]`, this.maxInputDepth));
    await this.registry.require(fn);
    const now = Date.now();
    const meta: RunMeta = {
      runId: randomUUID(),
      fn,
      chunkSize: options.chunkSize ?? 1,
      state: 'enqueuing',
      enqueuedChunks: 0,
      enqueuedItems: 0,
      total: Array.isArray(inputs) ? inputs.length : null,
      createdAt: now,
      heartbeatAt: now,
      ttlSec: this.resultTtlSec,
      done: 0,
      failed: 0,
      ...(reduce ? { reduce, failFast: options.failFast ?? false } : {}),
    };
    await this.runs.create(meta);
    // An array was checked above, before the run was created: the enqueuer need not walk it again.
    return this.startRun<T>(meta, { ...options, inputs }, options.attempts, Array.isArray(inputs));
  }

  /** Takes a run up again by id, e.g. after the process that started it died: every result, from the start. */
  async resumeRun<T = unknown>(runId: string, options: ResumeOptions = {}): Promise<MapRun<T>> {
    assertRunId(runId, 'runId');
    checkOptions(options, RESUME_OPTIONS, 'resumeRun');
    const meta = await this.runs.load(runId);
    if (!meta) throw runNotFound(runId);
    if (meta.state === 'enqueuing' && !options.inputs && Date.now() - meta.heartbeatAt > HEARTBEAT_STALE_MS) throw incomplete(meta);
    return this.startRun<T>(meta, options);
  }

  private reduceOf<R>(run: MapRun, reduceFn: string): MapReduceRun<R> {
    return new MapReduceRun<R>(run, reduceFn, {
      addedBefore: async (runId) => Boolean((await this.runs.load(runId))?.reduceAddedAt),
      exists: async (jobId) => (await (await this.connected()).exists(this.jobKey(reduceFn, jobId))) === 1,
      add: async (jobId, input) => {
        await this.queue(reduceFn).add(reduceFn, input, this.jobOptions(jobId, {}));
        await this.runs.update(input.runId, { reduceAddedAt: Date.now() }, run.ttlSec);
      },
      wait: async (jobId, timeoutMs) => {
        await this.events.watch(reduceFn);
        return this.waitFor(reduceFn, jobId, timeoutMs);
      },
    });
  }

  /** A run's counts: live when this client runs it, else as last saved in Redis. */
  async runProgress(runId: string): Promise<RunProgress> {
    assertRunId(runId, 'runId');
    const live = this.live.get(runId);
    if (live) return live.progress();
    const meta = await this.runs.load(runId);
    if (!meta) throw runNotFound(runId);
    const progress: RunProgress = {
      runId,
      fn: meta.fn,
      state: progressState(meta.state, meta.total, meta.done),
      total: meta.total,
      enqueued: meta.enqueuedItems,
      done: meta.done,
      failed: meta.failed,
    };
    return meta.reduce ? { ...progress, reduce: meta.reduce, reduceJobId: reduceJobId(runId) } : progress;
  }

  /** When each job of a run waited and ran, read from its job hashes (draw it with timelineSvg). */
  async runTimeline(runId: string): Promise<RunTimeline> {
    assertRunId(runId, 'runId');
    const meta = await this.runs.load(runId);
    if (!meta) throw runNotFound(runId);
    return readTimeline(await this.connected(), meta, (jobId) => this.jobKey(meta.fn, jobId));
  }

  /**
   * Creates or replaces schedule `id`: a job of `fn` with `input` every `every` ms, or at the times
   * of a cron expression (`tz`: an IANA zone, default UTC). Ids are one namespace across functions.
   */
  async schedule(id: string, fn: string, timing: ScheduleTiming, input: unknown = null): Promise<ScheduleInfo> {
    assertScheduleId(id);
    const checked = checkTiming(timing);
    assertJson(input ?? null, 'input', this.maxInputDepth);
    await this.registry.require(fn);
    return this.scheduleBook.set(id, fn, checked, input ?? null);
  }

  /** Every schedule (by id), with its next and last run; or one, by id. */
  schedules(): Promise<ScheduleInfo[]> {
    return this.scheduleBook.list();
  }

  getSchedule(id: string): Promise<ScheduleInfo> {
    return this.scheduleBook.get(id);
  }

  /** Removes a schedule; firings already started run to their end. */
  unschedule(id: string): Promise<void> {
    return this.scheduleBook.remove(id);
  }

  pauseSchedule(id: string): Promise<ScheduleInfo> {
    return this.scheduleBook.pause(id);
  }

  resumeSchedule(id: string): Promise<ScheduleInfo> {
    return this.scheduleBook.resume(id);
  }

  /** The functions dispatchers have registered, with their load errors if any. */
  functions(): Promise<FunctionInfo[]> {
    return this.registry.list();
  }

  /** Detaches the runs of this client (their jobs go on) and closes every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.runsInProcess].map((run) => run.detach()));
    await this.events.close();
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)));
    this.queues.clear();
    await this.connection.close();
  }

  private startRun<T>(meta: RunMeta, options: ResumeOptions & { failFast?: boolean }, attempts?: number, checked = false): MapRun<T> {
    const { inputs, ordered = false, failFast = false, maxInFlight = this.maxInFlight, onProgress } = options;
    const queue = this.queue(meta.fn);
    const run = new MapRun<T>({
      meta,
      store: this.runs,
      events: this.events,
      reader: { redis: () => this.connected(), jobKey: (jobId) => this.jobKey(meta.fn, jobId) },
      enqueue: inputs
        ? {
            inputs,
            queue,
            maxInFlight,
            jobOptions: (jobId) => this.jobOptions(jobId, { attempts }, meta.ttlSec),
            check: checked ? () => undefined : (input, index) => assertJson(input, `inputs[${index}]`, this.maxInputDepth),
          }
        : undefined,
      ordered,
      failFast,
      onProgress,
      onEnd: () => {
        this.runsInProcess.delete(run);
        if (this.live.get(meta.runId) === run) this.live.delete(meta.runId);
      },
      cancelJobs: async (jobIds) => {
        for (let start = 0; start < jobIds.length; start += 100) {
          await Promise.all(jobIds.slice(start, start + 100).map((jobId) => this.cancelJob(meta.fn, jobId)));
        }
      },
    });
    this.runsInProcess.add(run);
    if (inputs || !this.live.has(meta.runId)) this.live.set(meta.runId, run);
    return run;
  }

  private async cancelJob(fn: string, jobId: string): Promise<CancelResult['outcome']> {
    const queue = this.queue(fn);
    const state = await queue.getJobState(jobId);
    if (state === 'unknown') throw notFound(jobId);
    if (state === 'completed' || state === 'failed') return 'finished';
    // remove() refuses a job whose lock a dispatcher holds: then it is running, and is signalled.
    if (NOT_STARTED.includes(state as JobState) && (await queue.remove(jobId)) === 1) return 'removed';
    const request: CancelRequest = { fn, jobId };
    await (await this.connected()).publish(this.keys.channel(CANCEL_CHANNEL), JSON.stringify(request));
    return 'signalled';
  }

  /** Waits for a job's end: woken by its event, polled from its hash in case the event is missed. */
  private async waitFor(fn: string, jobId: string, timeoutMs: number): Promise<Outcome | undefined> {
    const deadline = Date.now() + timeoutMs;
    let woken = false;
    let wake: () => void = () => undefined;
    const off = this.events.onJob(fn, jobId, () => {
      woken = true;
      wake();
    });
    try {
      for (let pause = 10; ; pause = Math.min(pause * 2, 1_000)) {
        woken = false;
        const [snapshot] = await readJobs(await this.connected(), [this.jobKey(fn, jobId)]);
        if (!snapshot!.exists) {
          if ((await this.locate(jobId, fn).catch(() => undefined))?.cancelled) return { ok: false, error: cancelledError(`Job ${jobId}`) };
          throw notFound(jobId);
        }
        if (snapshot!.finished) return snapshot!.outcome;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        if (!woken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(pause, left));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      }
    } finally {
      off();
    }
  }

  /** Which function's queue holds the job: given, else looked up in every registered queue at once. */
  private async locate(jobId: string, fn?: string): Promise<{ fn: string; cancelled: boolean }> {
    assertJobId(jobId, 'jobId');
    const redis = await this.connected();
    const tombstone = await redis.get(this.keys.cancelled(jobId));
    if (fn !== undefined) {
      await this.registry.require(fn);
      return { fn, cancelled: tombstone === fn };
    }
    if (tombstone) return { fn: tombstone, cancelled: true };
    const names = await this.registry.names();
    // One EXISTS each, not a pipeline: on a cluster the queues sit on different shards.
    const found = (await Promise.all(names.map((name) => redis.exists(this.jobKey(name, jobId))))).findIndex((exists) => exists === 1);
    if (found < 0) throw notFound(jobId);
    return { fn: names[found]!, cancelled: false };
  }

  /** See holdsSameJob: the job of this id is this one (true), there is none (false), or it throws. */
  private async holdsSameJob(fn: string, jobId: string, data: unknown): Promise<boolean> {
    const redis = await this.connected();
    const names = [fn, ...(await this.registry.names()).filter((name) => name !== fn)];
    return holdsSameJob(
      names.map((name) => ({ fn: name, read: () => redis.hget(this.jobKey(name, jobId), 'data') })),
      fn,
      jobId,
      data,
    );
  }

  private async readFields(fn: string, jobId: string): Promise<Array<Array<string | null>>> {
    const fields = await (
      await this.connected()
    ).hmget(this.jobKey(fn, jobId), 'timestamp', 'finishedOn', 'returnvalue', 'failedReason', 'stacktrace', 'progress');
    return [fields];
  }

  private jobOptions(jobId: string, options: Omit<EnqueueOptions, 'jobId'>, ttlSec = this.resultTtlSec): JobsOptions {
    const opts: JobsOptions = { jobId, removeOnComplete: { age: ttlSec }, removeOnFail: { age: ttlSec } };
    if (options.attempts !== undefined) opts.attempts = options.attempts;
    if (options.backoffMs !== undefined) opts.backoff = { type: 'exponential', delay: options.backoffMs };
    if (options.delayMs !== undefined) opts.delay = options.delayMs;
    if (options.priority !== undefined) opts.priority = options.priority;
    return opts;
  }

  private jobKey(fn: string, jobId: string): string {
    return jobKey(this.prefix, fn, this.cluster, jobId);
  }

  private queue(fn: string): Queue {
    let queue = this.queues.get(fn);
    if (!queue) {
      queue = new Queue(queueName(fn, this.cluster), { connection: this.connection.client, prefix: this.prefix });
      queue.on('error', this.connection.noteError);
      this.queues.set(fn, queue);
    }
    return queue;
  }

  /** The command connection, once ready; producers fail fast rather than queue commands while Redis is away. */
  private connected(): Promise<RedisClient> {
    return this.connection.ready();
  }
}

function notFound(jobId: string): PhotonsError {
  return new PhotonsError(
    ErrorCodes.JOB_NOT_FOUND,
    `No job ${jobId} in any function queue: it was never enqueued here (check the id and PHOTONS_REDIS_PREFIX) or its result expired.`,
  );
}

function runNotFound(runId: string): PhotonsError {
  return new PhotonsError(ErrorCodes.RUN_NOT_FOUND, `No run ${runId}: it was never started with this Redis and prefix, or it expired (producer.resultTtlSec).`);
}
