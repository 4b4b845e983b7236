// A function's `rateLimit` and `maxConcurrency` (its `export const config`) become the settings of
// its BullMQ queue in Redis: the queue's global rate limit and global concurrency, which every
// worker of the fleet obeys when it takes a job, so jobs over the limit wait in the queue, not in
// memory. A chunk of a map is charged its items. See ARCHITECTURE.md, "Per-function limits".
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../config';
import { photonsKeys, queueLimiterKey, queueMetaKey } from '../contract/keys';
import type { RedisClient } from '../contract/redis';
import { CHUNK_JOB_NAME, type ChunkData } from '../contract/wire';
import type { FunctionBundle } from '../photon-worker/bundle';
import type { FunctionConfig } from '../photon-worker/types';
import { poolOptionsFrom } from './pool-options';
import { Runtime } from './runtime';
import type { SpareThreads } from './spare-threads';

/** What a dispatcher applied to a function's queue, and from which version (kept under `limits`). */
interface AppliedLimits {
  hash: string;
  rateLimit?: { max: number; durationMs: number };
  maxConcurrency?: number;
}

/**
 * Charges a chunk's items beyond the one BullMQ counted to the queue's limiter counter. A count past
 * the limit stretches the window by whole windows, so the items of a large chunk are paid for by
 * the windows after it, as if they had started one by one.
 */
const CHARGE_ITEMS = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local max, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = window end
redis.call('PEXPIRE', KEYS[1], ttl + math.max(0, math.ceil(count / max) - 1) * window)
return count`;

/** The config keys this file applies, as they appear in a function's code. */
const LIMIT_KEYS = /\b(rateLimit|maxConcurrency)\b/;

export class QueueLimits {
  /** Rate limits of the versions this dispatcher serves: only their chunks are charged. */
  private readonly rateLimits = new Map<string, { max: number; durationMs: number }>();
  /** Runtimes loading a function to read its config. */
  private readonly probes = new Set<Runtime>();
  /** Functions whose limits this dispatcher is still reading, until it knows them. */
  private readonly learning = new Map<string, Promise<void>>();
  /** The probe before the next one: they run one at a time. */
  private probing: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly keys;

  constructor(
    private readonly config: Readonly<PhotonsConfig>,
    private readonly redis: () => RedisClient,
    private readonly spares: () => SpareThreads | undefined,
    private readonly logger: Logger,
  ) {
    this.keys = photonsKeys(config.redis.prefix);
  }

  /**
   * This dispatcher now serves `bundle`: unless Redis holds the limits of this very version
   * already, its config is read (the function loaded once in a runtime of its own) and applied.
   */
  follow(bundle: FunctionBundle): void {
    const learning = this.learn(bundle).catch((err: unknown) => this.logger.warn({ err, fn: bundle.name }, 'function limits not applied'));
    this.learning.set(bundle.name, learning);
    void learning.then(() => {
      if (this.learning.get(bundle.name) === learning) this.learning.delete(bundle.name);
    });
  }

  /** Stops the runtimes still loading a function for its config. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.probes].map((probe) => probe.retire()));
  }

  /** Before a chunk job runs: its items beyond the first count against the rate limit too. */
  async charge(fn: string, job: Job): Promise<void> {
    const items = job.name === CHUNK_JOB_NAME ? (job.data as Partial<ChunkData>).items : undefined;
    if (!Array.isArray(items) || items.length < 2) return;
    // A chunk taken while this dispatcher still learns the function's limits waits for them.
    await this.learning.get(fn);
    const limit = this.rateLimits.get(fn);
    if (!limit) return;
    const key = queueLimiterKey(this.config.redis.prefix, fn, this.config.redis.cluster);
    // Not charging is no reason to fail the job: the limit is then loose by this chunk.
    await this.redis()
      .eval(CHARGE_ITEMS, 1, key, items.length - 1, limit.max, limit.durationMs)
      .catch((err: unknown) => this.logger.warn({ err, fn, jobId: job.id }, 'chunk items not charged to the rate limit'));
  }

  private async learn(bundle: FunctionBundle): Promise<void> {
    const known = await this.applied(bundle.name);
    if (known?.hash === bundle.hash) return this.remember(bundle.name, known);
    // A config that sets a limit names it: a function whose code does not is not loaded to find
    // out (its top level may be slow or have effects, and a first start may serve a thousand).
    if (!LIMIT_KEYS.test(bundle.code)) return this.apply(bundle, {}, known);
    // One function loads at a time: a first start over many functions must not start a thread for
    // each at once. By its turn another dispatcher may have applied this version already.
    const turn = this.probing.then(async () => {
      const applied = await this.applied(bundle.name);
      if (applied?.hash === bundle.hash) return this.remember(bundle.name, applied);
      const config = this.closed ? undefined : await this.readConfig(bundle);
      if (config) await this.apply(bundle, config, applied);
    });
    this.probing = turn.catch(() => undefined);
    await turn;
  }

  private async applied(fn: string): Promise<AppliedLimits | undefined> {
    const raw = await this.redis().hget(this.keys.queueLimits, fn);
    return raw ? (JSON.parse(raw) as AppliedLimits) : undefined;
  }

  /** Chunks of the function are charged to its rate limit, if it has one. */
  private remember(fn: string, config: FunctionConfig): void {
    if (config.rateLimit) this.rateLimits.set(fn, config.rateLimit);
    else this.rateLimits.delete(fn);
  }

  private async apply(bundle: FunctionBundle, config: FunctionConfig, applied: AppliedLimits | undefined): Promise<void> {
    const redis = this.redis();
    const fn = bundle.name;
    this.remember(fn, config);
    // The newest version wins: a dispatcher still on an older one while a deploy goes on leaves it alone.
    const deployed = await redis.hget(this.keys.deployed, fn);
    if (deployed && deployed !== bundle.hash) return;
    const meta = queueMetaKey(this.config.redis.prefix, fn, this.config.redis.cluster);
    // Only settings we made are removed: one set by hand (bull-board, setGlobalConcurrency) stays.
    if (config.maxConcurrency) await redis.hset(meta, 'concurrency', config.maxConcurrency);
    else if (applied?.maxConcurrency) await redis.hdel(meta, 'concurrency');
    if (config.rateLimit) await redis.hset(meta, 'max', config.rateLimit.max, 'duration', config.rateLimit.durationMs);
    else if (applied?.rateLimit) await redis.hdel(meta, 'max', 'duration');
    const record: AppliedLimits = { hash: bundle.hash, rateLimit: config.rateLimit, maxConcurrency: config.maxConcurrency };
    await redis.hset(this.keys.queueLimits, fn, JSON.stringify(record));
    if (config.rateLimit || config.maxConcurrency)
      this.logger.info({ fn, rateLimit: config.rateLimit, maxConcurrency: config.maxConcurrency }, 'function limits applied');
  }

  /** The function's config, from a runtime that loads it and retires; undefined if it does not load. */
  private readConfig(bundle: FunctionBundle): Promise<FunctionConfig | undefined> {
    const options = poolOptionsFrom(this.config, bundle, this.logger.child({ fn: bundle.name }), { spares: this.spares() });
    return new Promise((resolve) => {
      const runtime = new Runtime({
        ...options,
        id: 0,
        onProgress: () => undefined,
        onAnswers: () => undefined,
        onReady: (ready) => {
          resolve(ready.config);
          void ready.retire();
        },
        onExit: () => {
          this.probes.delete(runtime);
          resolve(undefined);
        },
      });
      this.probes.add(runtime);
    });
  }
}
