// Redis connections and keys. Worker-side connections retry for ever (maxRetriesPerRequest: null,
// as BullMQ requires); our own keys live beside BullMQ's under `<prefix>:__photons:`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError } from '../errors';

/** Connection options for BullMQ workers and the dispatcher's own commands. */
export function workerConnection(url: string): RedisOptions {
  return { ...fromUrl(url), maxRetriesPerRequest: null };
}

/** Connection options for producers: fail fast instead of queueing commands while Redis is away. */
export function producerConnection(url: string): RedisOptions {
  return { ...fromUrl(url), enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 };
}

function fromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Keys of our own, next to the BullMQ queues of the same prefix. */
export function photonsKey(prefix: string, ...parts: string[]): string {
  return [prefix, '__photons', ...parts].join(':');
}

/** Answers whether Redis answers at `url`, and checks it is new enough for BullMQ. */
export async function pingRedis(url: string, timeoutMs = 1_500): Promise<boolean> {
  const client = new Redis({ ...fromUrl(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && (Number(version[1]) < 6 || (Number(version[1]) === 6 && Number(version[2]) < 2))) {
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `Redis at ${redacted(url)} is version ${version[1]}.${version[2]}; Photons (BullMQ) needs Redis 6.2 or newer.`,
      );
    }
    return true;
  } catch (err) {
    if (err instanceof PhotonsError) throw err;
    return false;
  } finally {
    client.disconnect();
  }
}

export interface LocalRedis {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Makes sure a Redis answers: the configured one, or else (when allowed and redis-server is on the
 * PATH) a private one on a free port that keeps nothing on disk.
 */
export async function ensureRedis(url: string, autostart: boolean, logger: Logger): Promise<{ url: string; local?: LocalRedis }> {
  if (await pingRedis(url)) return { url };
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!autostart || !hasServer) {
    throw new PhotonsError(
      ErrorCodes.REDIS_UNAVAILABLE,
      `No Redis answers at ${redacted(url)}` +
        (autostart ? ' and redis-server is not on the PATH' : ' (and PHOTONS_REDIS_AUTOSTART is off)') +
        '. Start one (e.g. `apt-get install redis-server`, or `docker run -p 6379:6379 redis:7`) or point PHOTONS_REDIS_URL at yours.',
    );
  }
  const local = await startRedisServer();
  logger.info({ url: local.url, pid: local.process.pid }, `no Redis at ${redacted(url)}: started a private redis-server at ${local.url} (nothing persisted)`);
  return { url: local.url, local };
}

/** Starts a redis-server on a free loopback port; tests that restart Redis use it too. */
export async function startRedisServer(extraArgs: string[] = []): Promise<LocalRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis(url, 500))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `redis-server did not start on port ${port}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The URL without its password, for logs and messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

/** Every key matching `pattern`, by SCAN (never KEYS, which blocks Redis). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Removes every key matching `pattern` (e.g. `${prefix}:*` after a test or a benchmark). */
export async function removeKeys(target: string | RedisOptions, pattern: string): Promise<number> {
  const redis = new Redis(typeof target === 'string' ? workerConnection(target) : target);
  try {
    const keys = await scanKeys(redis, pattern);
    let removed = 0;
    for (let i = 0; i < keys.length; i += 1000) removed += await redis.unlink(...keys.slice(i, i + 1000));
    return removed;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
