// The dispatcher: one BullMQ Worker per function queue feeds that function's runtime pool, and
// each job's outcome goes back through BullMQ (return value, failure, retry, or hand-back).
import { hostname } from 'node:os';
import { Worker, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../config';
import { ErrorCodes, PhotonsError, type SerializedError } from '../errors';
import type { FunctionBundle } from '../photon-worker/bundle';
import { CANCEL_CHANNEL, CHUNK_JOB_NAME, type CancelRequest, type ChunkData, type ChunkResult } from '../queue-protocol';
import { loadCatalog } from './catalog';
import { DEPLOY_CHANNEL, loadBundle, loadDeployed, VersionLog, type DeployNotice } from './deployments';
import { POISON_DEATHS, poolOptionsFrom, RuntimePool, type PoolStats } from './runtime-pool';
import { photonsKey, workerConnection } from './redis';
import { serveMetrics, type MetricsServer } from './metrics-server';
import { SpareThreads } from './spare-threads';
import type { JobOutcome } from './runtime';

const VERSION: string = (require('../../package.json') as { version: string }).version;

export interface DispatcherStats {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  at: number;
  functions: PoolStats[];
}

interface Served {
  /** The pool of the function's current version; undefined when it does not bundle. */
  pool: RuntimePool | undefined;
  /** Why the function cannot run, when it does not bundle. */
  broken?: PhotonsError;
  /** The content hash of a version from `photons deploy`; its jobs record it. */
  deployed?: string;
  worker: Worker;
  /** Jobs this dispatcher holds, for progress reports. */
  active: Map<string, Job>;
}

export class Dispatcher {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly startedAt = Date.now();
  private readonly served = new Map<string, Served>();
  private spares: SpareThreads | undefined;
  private redis: Redis | undefined;
  private subscriber: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Function name → its registry entry (file and hash, or why it does not load). */
  private registry: Record<string, string> = {};
  private versions: VersionLog | undefined;
  private metricsServer: MetricsServer | undefined;
  /** Pools of replaced versions, finishing their jobs. */
  private readonly retiring = new Set<RuntimePool>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: Readonly<PhotonsConfig>,
    private readonly logger: Logger,
  ) {}

  get functionNames(): string[] {
    return [...this.served.keys()];
  }

  async start(): Promise<void> {
    const { config } = this;
    this.redis = new Redis(workerConnection(config.redis.url));
    this.redis.on('error', (err) => this.logger.warn({ err }, 'redis connection error'));
    this.versions = new VersionLog(this.redis, config.redis.prefix, config.producer.resultTtlSec);
    const catalog = await loadCatalog(config.functionsDir);
    // A version from `photons deploy` wins over a file of the same name: deploying is explicit.
    const deployed = await loadDeployed(this.redis, config.redis.prefix, config.functionsDir);
    for (const [name, bundle] of deployed) catalog.set(name, bundle);
    this.spares = new SpareThreads(config.runtime.spareThreads, config.runtime.memoryMb);
    if (catalog.size === 0) {
      this.logger.warn({ functionsDir: config.functionsDir }, 'no function files found and none deployed: nothing to serve');
    }
    for (const [name, entry] of catalog) this.serve(name, entry, deployed.has(name));
    if (catalog.size > 0) await this.redis.hset(photonsKey(config.redis.prefix, 'functions'), this.registry);
    await Promise.all([...this.served.values()].map((s) => s.worker.waitUntilReady()));
    await this.listen();
    await this.publishStats();
    this.heartbeat = setInterval(() => void this.publishStats(), config.dispatcher.heartbeatMs);
    this.heartbeat.unref();
    if (config.dispatcher.metricsPort > 0) this.metricsServer = await serveMetrics(config.dispatcher.metricsPort, () => this.stats(), this.logger);
    this.logger.info(
      { dispatcherId: this.id, functions: this.functionNames, mode: config.mode },
      `dispatcher serving ${catalog.size} function(s)`,
    );
  }

  stats(): DispatcherStats {
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      version: VERSION,
      startedAt: this.startedAt,
      at: Date.now(),
      functions: [...this.served.values()].flatMap((s) => (s.pool ? [s.pool.stats()] : [])),
    };
  }

  /**
   * Stops fetching, lets running jobs finish within the grace period, hands the rest back to their
   * queues (no attempt spent) for another dispatcher, then closes runtimes and connections.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const grace = this.config.dispatcher.shutdownGraceMs;
    this.logger.info({ graceMs: grace }, 'dispatcher shutting down: finishing running jobs');
    const workersClosed = Promise.all([...this.served.values()].map((s) => s.worker.close()));
    const timer = setTimeout(() => {
      const left = [...this.served.values()].reduce((sum, s) => sum + s.active.size, 0);
      this.logger.warn({ jobs: left }, 'grace period over: handing the remaining jobs back to their queues');
      for (const pool of this.pools()) void pool.close();
    }, grace);
    await workersClosed;
    clearTimeout(timer);
    await Promise.all(this.pools().map((pool) => pool.close()));
    await this.spares?.close();
    await this.versions?.flush();
    clearInterval(this.heartbeat);
    await this.metricsServer?.close();
    await this.subscriber?.quit().catch(() => undefined);
    if (this.redis) {
      await this.redis.del(photonsKey(this.config.redis.prefix, 'dispatcher', this.id)).catch(() => undefined);
      await this.redis.quit().catch(() => undefined);
    }
    this.logger.info('dispatcher stopped');
  }

  private pools(): RuntimePool[] {
    return [...[...this.served.values()].flatMap((s) => (s.pool ? [s.pool] : [])), ...this.retiring];
  }

  private serve(name: string, entry: FunctionBundle | PhotonsError, deployed: boolean): void {
    const { config } = this;
    const logger = this.logger.child({ fn: name });
    const served: Served = { pool: undefined, worker: undefined as unknown as Worker, active: new Map<string, Job>() };
    this.use(name, served, entry, deployed);
    served.worker = new Worker(
      name,
      // Two parameters, not three: BullMQ then skips an AbortController per job; cancel requests
      // reach the pool directly (listen).
      async (job: Job, token?: string) => {
        // The pool is read per job: a deploy switches new jobs to the new version.
        const { pool, broken, deployed: version } = served;
        if (!pool) throw new UnrecoverableError(`${broken!.code}: ${broken!.message}`);
        if (version) this.versions?.record(name, job.id!, version);
        served.active.set(job.id!, job);
        try {
          return await this.process(name, pool, job, token!);
        } finally {
          served.active.delete(job.id!);
        }
      },
      {
        connection: workerConnection(config.redis.url),
        prefix: config.redis.prefix,
        concurrency: config.dispatcher.concurrency,
        lockDuration: config.dispatcher.lockDurationMs,
        stalledInterval: config.dispatcher.stalledIntervalMs,
        maxStalledCount: config.dispatcher.maxStalledCount,
        autorun: true,
      },
    );
    served.worker.on('error', (err) => logger.warn({ err }, 'queue worker error'));
    this.served.set(name, served);
  }

  /** Points a function at a version: a bundle gets a pool of its own, a broken one its error. */
  private use(name: string, served: Served, entry: FunctionBundle | PhotonsError, deployed: boolean): void {
    const logger = this.logger.child({ fn: name });
    if (entry instanceof PhotonsError) {
      logger.error({ err: entry }, 'function does not bundle: its jobs will fail until it is fixed');
      this.registry[name] = JSON.stringify({ error: { code: entry.code, message: entry.message } });
      Object.assign(served, { pool: undefined, broken: entry, deployed: undefined });
      return;
    }
    this.registry[name] = JSON.stringify({ file: entry.file, hash: entry.hash, deployed });
    const pool = new RuntimePool(
      poolOptionsFrom(this.config, entry, logger, {
        spares: this.spares,
        onProgress: (jobId, value) => {
          served.active.get(jobId)?.updateProgress(value).catch((err: unknown) => logger.warn({ err, jobId }, 'progress not saved'));
        },
      }),
    );
    Object.assign(served, { pool, broken: undefined, deployed: deployed ? entry.hash : undefined });
  }

  /** A new version from `photons deploy`: new jobs go to it; the old pool finishes its jobs, then retires. */
  private async onDeploy(notice: DeployNotice): Promise<void> {
    const served = this.served.get(notice.fn);
    if (served?.deployed === notice.hash || this.closing) return;
    const bundle = await loadBundle(this.redis!, this.config.redis.prefix, notice.hash, this.config.functionsDir);
    if (!bundle) return this.logger.warn({ fn: notice.fn, hash: notice.hash }, 'deployed bundle not found in Redis');
    if (!served) {
      this.serve(notice.fn, bundle, true);
      await this.served.get(notice.fn)!.worker.waitUntilReady();
    } else {
      const previous = served.pool;
      this.use(notice.fn, served, bundle, true);
      if (previous) {
        this.retiring.add(previous);
        void previous.retireWhenIdle().then(() => this.retiring.delete(previous));
      }
    }
    await this.redis!.hset(photonsKey(this.config.redis.prefix, 'functions'), notice.fn, this.registry[notice.fn]!);
    this.logger.info({ fn: notice.fn, hash: notice.hash }, 'now serving a deployed version');
  }

  private async process(name: string, pool: RuntimePool, job: Job, token: string): Promise<unknown> {
    // A job started more often than it finished attempts was handed back before: maybe by a
    // runtime death. Only then is the death count worth a round trip to Redis.
    const solo = job.attemptsStarted > job.attemptsMade + 1 && (await this.deathsOf(name, job.id!)) > 0;
    const attempt = job.attemptsMade + 1;
    const items = job.name === CHUNK_JOB_NAME ? chunkItems(name, job) : undefined;
    const outcomes: JobOutcome[] = items
      ? await Promise.all(items.map((input, i) => pool.submit({ jobId: `${job.id}#${i}`, input, attempt }, solo)))
      : [await pool.submit({ jobId: job.id!, input: job.data as unknown, attempt }, solo)];
    const died = outcomes.find((o) => o.kind === 'runtime-died');
    if (died) return this.handBack(name, job, token, died.error);
    if (items) {
      const result: ChunkResult = {
        items: outcomes.map((o) =>
          o.kind === 'done' ? { ok: true, value: JSON.parse(o.valueJson) as unknown } : { ok: false, error: o.error },
        ),
      };
      return result;
    }
    const outcome = outcomes[0]!;
    if (outcome.kind === 'done') return JSON.parse(outcome.valueJson) as unknown;
    this.applyRetryPolicy(job, pool);
    throw toJobError(outcome.error, outcome.kind === 'failed' && outcome.unrecoverable);
  }

  /** A job whose options name no attempts takes its function's `config.attempts` and backoff. */
  private applyRetryPolicy(job: Job, pool: RuntimePool): void {
    const fnConfig = pool.functionConfig;
    // BullMQ stores `attempts: 0` for a job added without attempts (its Job constructor's default),
    // and 0 runs once like 1: only a positive value is the producer's own choice.
    if ((job.opts.attempts ?? 0) > 0 || !fnConfig?.attempts) return;
    // BullMQ decides on retry from the job's options in memory; the count lives in Redis.
    job.opts.attempts = fnConfig.attempts;
    job.opts.backoff = { type: 'exponential', delay: fnConfig.backoffMs ?? 1_000 };
  }

  /** Puts a job back at the head of its queue without spending an attempt, or fails it as poison. */
  private async handBack(name: string, job: Job, token: string, reason: SerializedError): Promise<never> {
    if (!this.closing) {
      const key = photonsKey(this.config.redis.prefix, 'deaths', name);
      const [[, deaths]] = (await this.redis!.multi().hincrby(key, job.id!, 1).expire(key, 86_400).exec()) as [[Error | null, number]];
      if (deaths >= POISON_DEATHS) {
        await this.redis!.hdel(key, job.id!);
        throw new UnrecoverableError(
          `${ErrorCodes.POISON}: Job ${job.id} of "${name}" was present at ${deaths} runtime deaths and is failed as poison. Last: ${reason.message}`,
        );
      }
      this.logger.warn({ fn: name, jobId: job.id, reason: reason.message }, 'runtime died under the job: handed back to the queue, to run alone');
    }
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /** Cancel requests reach every dispatcher; the one holding the job aborts it (ctx.signal fires). */
  /**
   * Cancel requests and deploy notices reach every dispatcher: the one holding a cancelled job
   * aborts it (ctx.signal fires); every one switches to a deployed version.
   */
  private async listen(): Promise<void> {
    const { prefix } = this.config.redis;
    const cancelChannel = photonsKey(prefix, CANCEL_CHANNEL);
    const deployChannel = photonsKey(prefix, DEPLOY_CHANNEL);
    this.subscriber = new Redis(workerConnection(this.config.redis.url));
    this.subscriber.on('error', (err) => this.logger.warn({ err }, 'redis subscriber error'));
    this.subscriber.on('message', (channel: string, message: string) => {
      let notice: Partial<CancelRequest & DeployNotice>;
      try {
        notice = JSON.parse(message) as Partial<CancelRequest & DeployNotice>;
      } catch {
        return;
      }
      if (typeof notice.fn !== 'string') return;
      if (channel === deployChannel && typeof notice.hash === 'string') {
        this.onDeploy({ fn: notice.fn, hash: notice.hash }).catch((err: unknown) => this.logger.error({ err, fn: notice.fn }, 'deploy failed'));
        return;
      }
      const pool = this.served.get(notice.fn)?.pool;
      if (pool && typeof notice.jobId === 'string' && pool.cancel(notice.jobId, `Job ${notice.jobId} of "${notice.fn}" was cancelled.`)) {
        this.logger.info({ fn: notice.fn, jobId: notice.jobId }, 'job cancelled');
      }
    });
    await this.subscriber.subscribe(cancelChannel, deployChannel);
  }


  private async deathsOf(name: string, jobId: string): Promise<number> {
    const value = await this.redis!.hget(photonsKey(this.config.redis.prefix, 'deaths', name), jobId);
    return value ? Number(value) : 0;
  }

  private async publishStats(): Promise<void> {
    if (!this.redis) return;
    const { prefix } = this.config.redis;
    const ttl = this.config.dispatcher.heartbeatMs * 3;
    const writes: Promise<unknown>[] = [this.redis.set(photonsKey(prefix, 'dispatcher', this.id), JSON.stringify(this.stats()), 'PX', ttl)];
    // The registry goes with every heartbeat: producers refuse functions missing from it, and a
    // Redis restarted empty (unpersisted, flushed) would otherwise lose it until we restart.
    if (Object.keys(this.registry).length > 0) writes.push(this.redis.hset(photonsKey(prefix, 'functions'), this.registry));
    await Promise.all(writes).catch((err: unknown) => this.logger.warn({ err }, 'heartbeat not published'));
  }
}

function chunkItems(name: string, job: Job): unknown[] {
  const items = (job.data as Partial<ChunkData> | null)?.items;
  if (!Array.isArray(items)) {
    throw new UnrecoverableError(
      `${ErrorCodes.BAD_JOB}: Job ${job.id} of "${name}" is named "${CHUNK_JOB_NAME}" but its data has no items array. Enqueue chunks with the Photons client, or give the job another name.`,
    );
  }
  return items;
}

/** The error BullMQ stores: the message starts with our code, the stack points at the author's file. */
function toJobError(error: SerializedError, unrecoverable: boolean): Error {
  const message = `${error.code}: ${error.message}`;
  const err = unrecoverable ? new UnrecoverableError(message) : new Error(message);
  if (!unrecoverable && error.name) err.name = error.name;
  const frames = error.stack?.split('\n').slice(1).join('\n');
  err.stack = frames ? `${err.name}: ${message}\n${frames}` : `${err.name}: ${message}`;
  return err;
}
