// BullMQ queue workers on demand (ARCHITECTURE.md, "Scheduling / fetching"): a function's worker,
// and its two Redis connections, exist while the function has jobs, and for keep-alive after its
// last one. Every check interval one pipelined look at the idle queues (QueueWatch) starts the
// workers of those with work; a worker idle past keep-alive closes. So a dispatcher's connections
// follow the functions in use, not the functions it serves.
import type { Processor } from 'bullmq';
import type { Cluster, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../config';
import { queueName } from '../contract/keys';
import type { RedisClient } from '../contract/redis';
import { FetchingWorker } from './fetching-worker';
import { QueueWatch } from './queue-watch';

export interface QueueWorkersOptions {
  config: Readonly<PhotonsConfig>;
  logger: Logger;
  redis: () => RedisClient;
  /** The workers' connection: options for one Redis, a shared client for a cluster. */
  connection: () => RedisOptions | Cluster;
  processor: (fn: string) => Processor;
  /** How many more jobs a function may fetch now, holding `held` with `pending` more on their way. */
  room: (fn: string, held: number, pending: number) => number;
  /** A function's worker stopped: it holds no memory of the budget any more. */
  onStop: (fn: string) => void;
}

export class QueueWorkers {
  private readonly workers = new Map<string, FetchingWorker>();
  private readonly names = new Set<string>();
  private readonly watch: QueueWatch;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private closed = false;

  constructor(private readonly options: QueueWorkersOptions) {
    const { redis } = options.config;
    this.watch = new QueueWatch(options.redis, redis.prefix, redis.cluster);
  }

  /** Functions whose workers run now. */
  get running(): string[] {
    return [...this.workers.keys()];
  }

  /** How many functions' workers run now. */
  get runningCount(): number {
    return this.workers.size;
  }

  isRunning(fn: string): boolean {
    return this.workers.has(fn);
  }

  /** Serves a function: its worker starts when its queue has work. */
  add(fn: string): void {
    this.names.add(fn);
  }

  /** Looks at the idle queues now, then every check interval. */
  async start(): Promise<void> {
    await this.check();
    this.schedule();
  }

  /** Stops fetching everywhere; resolves when every worker has answered or handed back its jobs. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all([...this.workers.values()].map((w) => w.close()));
  }

  /** Redis is gone: drop the workers' connections without waiting for it. */
  disconnect(): void {
    for (const worker of this.workers.values()) void worker.disconnect().catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.check().finally(() => this.schedule()), this.options.config.dispatcher.checkIntervalMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      this.stopIdle();
      const idle = [...this.names].filter((fn) => !this.workers.has(fn));
      for (const fn of await this.watch.withWork(idle)) this.startWorker(fn);
    } catch (err) {
      this.options.logger.warn({ err }, 'queue check failed: trying again at the next interval');
    } finally {
      this.checking = false;
    }
  }

  private startWorker(fn: string): void {
    if (this.closed || this.workers.has(fn)) return;
    const { config, logger } = this.options;
    const worker = new FetchingWorker(
      queueName(fn, config.redis.cluster),
      this.options.processor(fn),
      {
        connection: this.options.connection(),
        prefix: config.redis.prefix,
        lockDuration: config.dispatcher.lockDurationMs,
        stalledInterval: config.dispatcher.stalledIntervalMs,
        maxStalledCount: config.dispatcher.maxStalledCount,
      },
      (held, pending) => this.options.room(fn, held, pending),
      (err) => logger.warn({ err, fn }, 'queue worker error'),
    );
    worker.on('error', (err) => logger.warn({ err, fn }, 'queue worker error'));
    this.workers.set(fn, worker);
    worker.start();
    logger.debug({ fn }, 'queue worker started');
  }

  /** Closes the workers that held no job for keep-alive; their queues are watched again. */
  private stopIdle(): void {
    const now = Date.now();
    const { runtime, dispatcher } = this.options.config;
    // Two stalled intervals at least: BullMQ takes a dead dispatcher's job back on its second look.
    const keepAlive = Math.max(runtime.keepAliveMs, 2 * dispatcher.stalledIntervalMs);
    for (const [fn, worker] of this.workers) {
      if (worker.held > 0 || now - worker.lastBusyAt <= keepAlive) continue;
      this.workers.delete(fn);
      this.options.onStop(fn);
      void worker.close().then(() => this.options.logger.debug({ fn }, 'queue worker stopped: idle past keep-alive'));
    }
  }
}
