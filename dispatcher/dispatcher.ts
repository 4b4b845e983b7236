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
import { POISON_DEATHS, poolOptionsFrom, RuntimePool, type PoolStats } from './runtime-pool';
import { photonsKey, workerConnection } from './redis';
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
  pool: RuntimePool | undefined;
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
    const catalog = await loadCatalog(config.functionsDir);
    this.spares = new SpareThreads(config.runtime.spareThreads, config.runtime.memoryMb);
    if (catalog.size === 0) {
      this.logger.warn({ functionsDir: config.functionsDir }, 'no function files found: nothing to serve');
    }
    const registry: Record<string, string> = {};
    for (const [name, entry] of catalog) {
      if (entry instanceof PhotonsError) {
        this.logger.error({ fn: name, err: entry }, 'function does not bundle: its jobs will fail until it is fixed');
        registry[name] = JSON.stringify({ error: { code: entry.code, message: entry.message } });
      } else {
        registry[name] = JSON.stringify({ file: entry.file, hash: entry.hash });
      }
      this.serve(name, entry);
    }
    this.registry = registry;
    if (catalog.size > 0) await this.redis.hset(photonsKey(config.redis.prefix, 'functions'), registry);
    await Promise.all([...this.served.values()].map((s) => s.worker.waitUntilReady()));
    await this.listenForCancels();
    await this.publishStats();
    this.heartbeat = setInterval(() => void this.publishStats(), config.dispatcher.heartbeatMs);
    this.heartbeat.unref();
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
      for (const s of this.served.values()) void s.pool?.close();
    }, grace);
    await workersClosed;
    clearTimeout(timer);
    await Promise.all([...this.served.values()].map((s) => s.pool?.close()));
    await this.spares?.close();
    clearInterval(this.heartbeat);
    await this.subscriber?.quit().catch(() => undefined);
    if (this.redis) {
      await this.redis.del(photonsKey(this.config.redis.prefix, 'dispatcher', this.id)).catch(() => undefined);
      await this.redis.quit().catch(() => undefined);
    }
    this.logger.info('dispatcher stopped');
  }

  private serve(name: string, entry: FunctionBundle | PhotonsError): void {
    const { config } = this;
    const logger = this.logger.child({ fn: name });
    const active = new Map<string, Job>();
    const pool =
      entry instanceof PhotonsError
        ? undefined
        : new RuntimePool(
            poolOptionsFrom(config, entry, logger, {
              spares: this.spares,
              onProgress: (jobId, value) => {
                active.get(jobId)?.updateProgress(value).catch((err: unknown) => logger.warn({ err, jobId }, 'progress not saved'));
              },
            }),
          );
    const worker = new Worker(
      name,
      // Two parameters, not three: BullMQ then skips an AbortController per job; cancel requests
      // reach the pool directly (listenForCancels).
      async (job: Job, token?: string) => {
        if (!pool) throw new UnrecoverableError(`${(entry as PhotonsError).code}: ${(entry as PhotonsError).message}`);
        active.set(job.id!, job);
        try {
          return await this.process(name, pool, job, token!);
        } finally {
          active.delete(job.id!);
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
    worker.on('error', (err) => logger.warn({ err }, 'queue worker error'));
    this.served.set(name, { pool, worker, active });
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
  private async listenForCancels(): Promise<void> {
    const channel = photonsKey(this.config.redis.prefix, CANCEL_CHANNEL);
    this.subscriber = new Redis(workerConnection(this.config.redis.url));
    this.subscriber.on('error', (err) => this.logger.warn({ err }, 'redis subscriber error'));
    this.subscriber.on('message', (_channel: string, message: string) => {
      let request: Partial<CancelRequest>;
      try {
        request = JSON.parse(message) as Partial<CancelRequest>;
      } catch {
        return;
      }
      const served = typeof request.fn === 'string' ? this.served.get(request.fn) : undefined;
      if (served?.pool && typeof request.jobId === 'string' && served.pool.cancel(request.jobId, `Job ${request.jobId} of "${request.fn}" was cancelled.`)) {
        this.logger.info({ fn: request.fn, jobId: request.jobId }, 'job cancelled');
      }
    });
    await this.subscriber.subscribe(channel);
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
