// A producer's connections to Redis, one Redis or a cluster: the command client, which fails fast
// rather than queue commands while Redis is away, and the connection BullMQ's event listeners
// block on. Both open on first use.
import { Cluster, type RedisOptions } from 'ioredis';
import { bullConnection, checkRedis, connectRedis, redacted, type RedisClient, type RedisTarget } from '../contract/redis';
import { ErrorCodes, PhotonsError } from '../errors';

const READY_TIMEOUT_MS = 5_000;

export class ProducerConnection {
  /** The command client; BullMQ queues share it (they do not block). */
  readonly client: RedisClient;
  private events: RedisOptions | Cluster | undefined;
  private lastError: Error | undefined;
  /** Once: a cluster node addressed as one Redis (or the reverse) would fail command by command. */
  private fits: Promise<void> | undefined;

  constructor(private readonly target: RedisTarget) {
    this.client = connectRedis(target, 'producer', { lazyConnect: true });
    this.client.on('error', this.noteError);
  }

  /** Remembers why Redis failed, for the message of the next refusal. */
  readonly noteError = (err: Error): void => {
    this.lastError = err;
  };

  /** What QueueEvents takes as its connection: they block, so a worker-role one. */
  eventsConnection(): RedisOptions | Cluster {
    if (!this.events) {
      this.events = bullConnection(this.target, 'worker');
      if (this.events instanceof Cluster) this.events.on('error', this.noteError);
    }
    return this.events instanceof Cluster ? this.events : { ...this.events };
  }

  /** The command client, once ready. */
  async ready(): Promise<RedisClient> {
    const redis = this.client;
    if (redis.status === 'ready') return redis;
    // Not kept when nothing answered: the check is for the Redis that does.
    this.fits ??= checkRedis(this.target).then((answered) => {
      if (!answered) this.fits = undefined;
    });
    await this.fits.catch((err: unknown) => {
      this.fits = undefined;
      throw err;
    });
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), READY_TIMEOUT_MS);
      const onReady = (): void => done(true);
      // Producers fail fast: a refused connection is an answer, not something to wait out.
      const onError = (): void => done(false);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('error', onError);
        resolve(ok);
      };
      redis.on('ready', onReady);
      redis.on('error', onError);
    });
    if (!ready) {
      const why = this.lastError ? ` (${this.lastError.message})` : '';
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `No Redis answers at ${redacted(this.target.url)}${why}. Start one or point PHOTONS_REDIS_URL at yours.`,
      );
    }
    return redis;
  }

  /** Call after every queue and listener using these connections has closed. */
  async close(): Promise<void> {
    for (const client of [this.client, this.events instanceof Cluster ? this.events : undefined]) {
      if (client?.status === 'ready') await client.quit().catch(() => undefined);
      else client?.disconnect();
    }
  }
}
