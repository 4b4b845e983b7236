// The dispatcher: a BullMQ Worker per function with jobs (started on demand, dispatcher/queue-workers.ts)
// feeds the runtime pool of that function's current version as far as the pool and the memory
// budget admit (dispatcher/job-runner.ts settles each job); it follows deploys and cancel requests,
// publishes its heartbeat, and shuts down gracefully.
import { hostname } from 'node:os';
import * as path from 'node:path';
import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import { Cluster, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../config';
import { PhotonsError } from '../errors';
import type { FunctionBundle } from '../photon-worker/bundle';
import { displayPaths } from '../photon-worker/stack';
import { CANCEL_CHANNEL, DEPLOY_CHANNEL } from '../contract/channels';
import type { DispatcherStats } from '../contract/heartbeat';
import { photonsKeys } from '../contract/keys';
import { bullConnection, closeClient, connectRedis, settlesWithin, type RedisClient } from '../contract/redis';
import type { CancelRequest, DeployNotice } from '../contract/wire';
import { bundleCacheDir, BundleCache } from './bundle-cache';
import { loadCatalog } from './catalog';
import { loadBundle, loadDeployed, VersionLog } from './deployments';
import { JobLogWriter } from './job-log-writer';
import { IdleBudget } from './idle-budget';
import { budgetBytes, MemoryBudget, type FunctionMemory } from './memory-budget';
import { JobRunner } from './job-runner';
import { serveMetrics, type MetricsServer } from './metrics-server';
import { Presence } from './presence';
import { poolOptionsFrom } from './pool-options';
import { readResultsPage } from '../contract/run-results';
import { QueueLimits } from './queue-limits';
import { QueueWorkers } from './queue-workers';
import { removeOrphanFolders } from './runtime-folders';
import { RuntimePool } from './runtime-pool';
import { SharedRuntimes } from './shared-runtimes';
import { SpareThreads } from './spare-threads';

/**
 * After the grace period, handing the jobs back takes a round trip to Redis each; when the queue
 * workers have still not closed this much later, Redis is not answering and the dispatcher stops
 * without it (the jobs' locks expire and other dispatchers run them again).
 */
const REDIS_GONE_AFTER_GRACE_MS = 5_000;

const VERSION: string = (require('../../package.json') as { version: string }).version;

export type { DispatcherStats };

interface Served {
  /** The pool of the function's current version; undefined when it does not bundle. */
  pool: RuntimePool | undefined;
  /** Why the function cannot run, when it does not bundle. */
  broken?: PhotonsError;
  /** The content hash of a version from `photons deploy`; its jobs record it. */
  deployed?: string;
  /** Jobs this dispatcher holds, for progress reports. */
  active: Map<string, Job>;
}

export class Dispatcher {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly startedAt = Date.now();
  private readonly served = new Map<string, Served>();
  private spares: SpareThreads | undefined;
  /** Runtimes shared among functions, when runtime.shareAmongFunctions is on. */
  readonly shared: SharedRuntimes | undefined;
  private readonly idleBudget: IdleBudget;
  private redis: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  /** The queue workers' connection: options for one Redis, a shared client for a cluster. */
  private bull: RedisOptions | Cluster | undefined;
  private presence: Presence | undefined;
  private versions: VersionLog | undefined;
  private metricsServer: MetricsServer | undefined;
  /** Pools of replaced versions, finishing their jobs. */
  private readonly retiring = new Set<RuntimePool>();
  private readonly jobs: JobRunner;
  private readonly limits: QueueLimits;
  private closing: Promise<void> | undefined;
  private readonly queues: QueueWorkers;
  private readonly budget: MemoryBudget;
  /** Set when close() could not reach Redis at the end: connections may linger, so a process should exit by itself (code 1). */
  stoppedWithoutRedis = false;

  constructor(
    private readonly config: Readonly<PhotonsConfig>,
    private readonly logger: Logger,
  ) {
    this.jobs = new JobRunner(
      config.redis.prefix,
      () => this.redis!,
      logger,
      () => this.closing !== undefined,
      new JobLogWriter(() => this.redis!, config.log.jobKeep, logger),
    );
    const { runtime } = config;
    if (runtime.shareAmongFunctions && config.mode === 'photon') {
      this.shared = new SharedRuntimes({
        memoryMb: runtime.memoryMb,
        functionsPerRuntime: runtime.functionsPerSharedRuntime,
        keepSpare: runtime.spareThreads > 0,
        logLevel: config.log.level,
        logger,
      });
    }
    this.limits = new QueueLimits(
      config,
      () => this.redis!,
      () => this.spares,
      logger,
    );
    this.idleBudget = new IdleBudget(config.runtime.idleMemoryMb);
    this.budget = new MemoryBudget(budgetBytes(config.dispatcher.memoryBudgetMb), {
      // Workers of functions that do not bundle count too: they fetch a batch at a time, rarely.
      count: () => this.queues.runningCount,
      memoryOf: (fn) => this.memoryOf(fn),
      all: () => this.queues.running.flatMap((fn) => this.memoryOf(fn) ?? []),
    });
    this.queues = new QueueWorkers({
      config,
      logger,
      redis: () => this.redis!,
      connection: () => (this.bull instanceof Cluster ? this.bull : { ...this.bull }),
      processor: (fn) => this.processor(fn),
      room: (fn, held, pending) => this.room(fn, held, pending),
      onStop: (fn) => this.budget.forget(fn),
    });
  }

  get functionNames(): string[] {
    return [...this.served.keys()];
  }

  async start(): Promise<void> {
    const { config } = this;
    this.redis = connectRedis(config.redis, 'worker');
    this.bull = bullConnection(config.redis, 'worker');
    if (this.bull instanceof Cluster) this.bull.on('error', (err) => this.logger.warn({ err }, 'redis cluster connection error'));
    this.redis.on('error', (err) => this.logger.warn({ err }, 'redis connection error'));
    this.versions = new VersionLog(this.redis, config.redis.prefix, config.producer.resultTtlSec);
    this.presence = new Presence(this.redis, config.redis.prefix, this.id, config.dispatcher.heartbeatMs, () => this.stats(), this.logger);
    const orphans = removeOrphanFolders();
    if (orphans > 0) this.logger.info({ orphans }, 'removed the temporary folders of runtimes of dead processes');
    // A version from `photons deploy` wins over a file of the same name: deploying is explicit. Its
    // bundle is read from Redis as stored, and the file it shadows is not bundled at all.
    const deployed = await loadDeployed(this.redis, config.redis.prefix, config.functionsDir, config.deploy.key, (fn, err) =>
      this.logger.error({ err, code: err.code, fn }, err.message),
    );
    const cache = new BundleCache(bundleCacheDir(config), this.logger);
    const catalog = await loadCatalog(config.functionsDir, this.logger, { cache, skip: new Set(deployed.keys()) });
    for (const [name, bundle] of deployed) catalog.set(name, bundle);
    // With shared runtimes, first runtimes go to a shared thread, so the spare kept is a shared one;
    // threads of their own (a second runtime, a function moved out) boot when asked.
    this.spares = new SpareThreads(this.shared ? 0 : config.runtime.spareThreads, config.runtime.memoryMb);
    this.shared?.start();
    if (catalog.size === 0) {
      this.logger.warn({ functionsDir: config.functionsDir }, 'no function files found and none deployed: nothing to serve');
    }
    for (const [name, entry] of catalog) this.serve(name, entry, deployed.has(name));
    await this.presence.register();
    await this.queues.start();
    await this.listen();
    await this.presence.start();
    if (config.dispatcher.metricsPort > 0) this.metricsServer = await serveMetrics(config.dispatcher.metricsPort, () => this.stats(), this.logger);
    this.logger.info({ dispatcherId: this.id, functions: this.functionNames, mode: config.mode }, `dispatcher serving ${catalog.size} function(s)`);
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
      memory: this.budget.stats(),
      fetching: this.queues.running.length,
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
    const closed = await this.closeWorkers(this.config.dispatcher.shutdownGraceMs);
    this.presence?.stop();
    await Promise.all([...this.pools().map((pool) => pool.close()), this.limits.close()]);
    await this.spares?.close();
    await this.shared?.close();
    this.idleBudget.close();
    await this.metricsServer?.close();
    const signedOff = closed && (await this.signOff());
    if (closed && !signedOff) this.logger.warn("Redis does not answer: this dispatcher's heartbeat expires by itself");
    if (this.subscriber) await closeClient(this.subscriber);
    if (this.bull instanceof Cluster) await closeClient(this.bull);
    if (this.redis) await closeClient(this.redis);
    this.stoppedWithoutRedis = !signedOff;
    this.logger.info(signedOff ? 'dispatcher stopped' : 'dispatcher stopped without Redis');
  }

  /**
   * Stops fetching and waits for the queue workers to close: running jobs finish within the grace
   * period, the rest are handed back. False when Redis does not answer even after that.
   */
  private async closeWorkers(grace: number): Promise<boolean> {
    this.logger.info({ graceMs: grace }, 'dispatcher shutting down: finishing running jobs');
    const workersClosed = this.queues.close();
    const timer = setTimeout(() => {
      this.logger.warn({ jobs: this.jobsHeld() }, 'grace period over: handing the remaining jobs back to their queues');
      for (const pool of this.pools()) void pool.close();
    }, grace);
    const closed = await settlesWithin(workersClosed, grace + REDIS_GONE_AFTER_GRACE_MS);
    clearTimeout(timer);
    if (!closed) {
      this.logger.error(
        { jobs: this.jobsHeld() },
        'Redis does not answer: stopping without handing jobs back; their locks expire and other dispatchers run them again',
      );
      for (const client of [this.redis, this.subscriber, this.bull instanceof Cluster ? this.bull : undefined]) client?.disconnect();
      // Not awaited: BullMQ waits there for the connection to end, which may not come either.
      this.queues.disconnect();
    }
    return closed;
  }

  /** Last words in Redis: which version ran which job, and this dispatcher off the roll. */
  private async signOff(): Promise<boolean> {
    if (this.redis?.status !== 'ready') return false;
    return settlesWithin(Promise.all([this.versions?.flush(), this.presence?.signOff()]), 2_000);
  }

  private jobsHeld(): number {
    return [...this.served.values()].reduce((sum, s) => sum + s.active.size, 0);
  }

  private pools(): RuntimePool[] {
    return [...[...this.served.values()].flatMap((s) => (s.pool ? [s.pool] : [])), ...this.retiring];
  }

  private serve(name: string, entry: FunctionBundle | PhotonsError, deployed: boolean): void {
    const served: Served = { pool: undefined, active: new Map<string, Job>() };
    this.use(name, served, entry, deployed);
    this.served.set(name, served);
    this.queues.add(name);
  }

  /** What a function's queue worker runs for each job. */
  private processor(name: string): Processor {
    const { config } = this;
    // Two parameters, not three: BullMQ then skips an AbortController per job; cancel requests
    // reach the pool directly (listen).
    return async (job: Job, token?: string) => {
      const served = this.served.get(name)!;
      // The pool is read per job: a deploy switches new jobs to the new version.
      const { pool, broken, deployed: version } = served;
      // Callers see the folder's files by their own names, not by the server's paths.
      if (!pool) throw new UnrecoverableError(`${broken!.code}: ${displayPaths(broken!.message, path.resolve(config.functionsDir))}`);
      if (version) this.versions?.record(name, job.id!, version);
      served.active.set(job.id!, job);
      try {
        await this.limits.charge(name, job);
        return await this.jobs.run(name, pool, job, token!);
      } finally {
        served.active.delete(job.id!);
      }
    };
  }

  /**
   * How many more jobs of a function its queue worker may fetch now (ARCHITECTURE.md, "Scheduling /
   * fetching"): what its pool can admit, within its share of the memory budget and any explicit
   * dispatcher.concurrency. What is not fetched waits in Redis.
   */
  private room(name: string, held: number, pending: number): number {
    const { pool } = this.served.get(name) ?? {};
    const cap = this.config.dispatcher.concurrency > 0 ? this.config.dispatcher.concurrency - held - pending : Infinity;
    // A function that does not bundle fails its jobs at once: a batch at a time.
    if (!pool) return Math.min(cap, this.config.batch.size - held - pending);
    const free = Math.min(cap, pool.freeRoom() - pending);
    return Math.min(free, this.budget.room(name, free, pending));
  }

  /** The memory of a function fetching now, for its share of the budget. */
  private memoryOf(fn: string): FunctionMemory | undefined {
    const pool = this.queues.isRunning(fn) ? this.served.get(fn)?.pool : undefined;
    return pool ? { ...pool.memory(), load: pool.load() } : undefined;
  }

  /** Points a function at a version: a bundle gets a pool of its own, a broken one its error. */
  private use(name: string, served: Served, entry: FunctionBundle | PhotonsError, deployed: boolean): void {
    const logger = this.logger.child({ fn: name });
    if (entry instanceof PhotonsError) {
      logger.error({ err: entry }, 'function does not bundle: its jobs will fail until it is fixed');
      this.presence!.registry[name] = JSON.stringify({ error: { code: entry.code, message: entry.message } });
      Object.assign(served, { pool: undefined, broken: entry, deployed: undefined });
      return;
    }
    this.presence!.registry[name] = JSON.stringify({ file: entry.file, hash: entry.hash, deployed });
    const pool = new RuntimePool(
      poolOptionsFrom(this.config, entry, logger, {
        spares: this.spares,
        readResults: (runId, from) => readResultsPage(this.redis!, { prefix: this.config.redis.prefix, cluster: this.config.redis.cluster }, runId, from),
        shared: this.shared,
        idleBudget: this.idleBudget,
        onProgress: (jobId, value) => {
          served.active
            .get(jobId)
            ?.updateProgress(value)
            .catch((err: unknown) => logger.warn({ err, jobId }, 'progress not saved'));
        },
      }),
    );
    Object.assign(served, { pool, broken: undefined, deployed: deployed ? entry.hash : undefined });
    this.limits.follow(entry);
  }

  /** A new version from `photons deploy`: new jobs go to it; the old pool finishes its jobs, then retires. */
  private async onDeploy(notice: DeployNotice): Promise<void> {
    const served = this.served.get(notice.fn);
    if (served?.deployed === notice.hash || this.closing) return;
    let bundle;
    try {
      bundle = await loadBundle(this.redis!, this.config.redis.prefix, notice.fn, notice.hash, this.config.functionsDir, this.config.deploy.key);
    } catch (err) {
      // A refused version changes nothing here: the current one keeps serving.
      if (!(err instanceof PhotonsError)) throw err;
      return this.logger.error({ err, code: err.code, fn: notice.fn, hash: notice.hash }, err.message);
    }
    if (!bundle) return this.logger.warn({ fn: notice.fn, hash: notice.hash }, 'deployed bundle not found in Redis');
    if (!served) {
      this.serve(notice.fn, bundle, true);
    } else {
      const previous = served.pool;
      this.use(notice.fn, served, bundle, true);
      if (previous) {
        this.retiring.add(previous);
        void previous.retireWhenIdle().then(() => this.retiring.delete(previous));
      }
    }
    await this.presence!.register(notice.fn);
    this.logger.info({ fn: notice.fn, hash: notice.hash }, 'now serving a deployed version');
  }

  /**
   * Cancel requests and deploy notices reach every dispatcher: the one holding a cancelled job
   * aborts it (ctx.signal fires); every one switches to a deployed version.
   */
  private async listen(): Promise<void> {
    const { prefix } = this.config.redis;
    const cancelChannel = photonsKeys(prefix).channel(CANCEL_CHANNEL);
    const deployChannel = photonsKeys(prefix).channel(DEPLOY_CHANNEL);
    this.subscriber = connectRedis(this.config.redis, 'worker');
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
}
