// A dispatcher's presence in Redis, as the fleet reads it (dispatcher/fleet.ts): every beat, its
// stats under a key that expires, its id on the roll of dispatchers, and the registry of the
// functions it serves; when it stops, its sign-off.
import type { Logger } from 'pino';
import { DISPATCHER_ROLL, type DispatcherStats } from './fleet';
import { photonsKey, type RedisClient } from './redis';

export class Presence {
  /** Function name → its registry entry (file and hash, or why it does not load). */
  readonly registry: Record<string, string> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly id: string,
    private readonly heartbeatMs: number,
    private readonly stats: () => DispatcherStats,
    private readonly logger: Logger,
  ) {}

  /** Writes the registry entries of `names` (all when none given) at once, not at the next beat. */
  async register(...names: string[]): Promise<void> {
    const entries = names.length === 0 ? this.registry : Object.fromEntries(names.map((name) => [name, this.registry[name]!]));
    if (Object.keys(entries).length > 0) await this.redis.hset(photonsKey(this.prefix, 'functions'), entries);
  }

  /** The first beat now, then one every heartbeatMs. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Off the roll, and the stats key gone (it would expire by itself). */
  signOff(): Promise<unknown> {
    return Promise.all([this.redis.del(photonsKey(this.prefix, 'dispatcher', this.id)), this.redis.zrem(photonsKey(this.prefix, DISPATCHER_ROLL), this.id)]);
  }

  private async beat(): Promise<void> {
    const ttl = this.heartbeatMs * 3;
    const roll = photonsKey(this.prefix, DISPATCHER_ROLL);
    const now = Date.now();
    const writes: Array<Promise<unknown>> = [
      this.redis.set(photonsKey(this.prefix, 'dispatcher', this.id), JSON.stringify(this.stats()), 'PX', ttl),
      this.redis.zadd(roll, now + ttl, this.id),
      this.redis.zremrangebyscore(roll, '-inf', now),
      // The registry goes with every beat: producers refuse functions missing from it, and a
      // Redis restarted empty (unpersisted, flushed) would otherwise lose it until we restart.
      this.register(),
    ];
    await Promise.all(writes).catch((err: unknown) => this.logger.warn({ err }, 'heartbeat not published'));
  }
}
