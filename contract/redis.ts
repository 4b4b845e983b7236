// Redis connections, for one Redis server or a Redis Cluster. Worker-side connections retry for
// ever (maxRetriesPerRequest: null, as BullMQ requires); producers fail fast. Both sides connect
// the same way and check the same things of the server, so this lives in contract/, the one
// folder producer/, dispatcher/ and cli/ all import and which imports none of them; the key names
// are in contract/keys.ts.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ErrorCodes, PhotonsError } from '../errors';

/** A connection to the queues: one Redis server, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Where the queues live. `url` is one Redis, or with `cluster` one or more comma-separated URLs
 * of the cluster's nodes (any of them: the client learns the others from the cluster).
 */
export interface RedisTarget {
  url: string;
  cluster: boolean;
}

export type ConnectionRole = 'worker' | 'producer';

/** Connection options for BullMQ workers and the dispatcher's own commands. */
export function workerConnection(url: string): RedisOptions {
  return { ...fromUrl(url), maxRetriesPerRequest: null };
}

/** Connection options for producers: fail fast instead of queueing commands while Redis is away. */
export function producerConnection(url: string): RedisOptions {
  return { ...fromUrl(url), enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 };
}

/** A connection of the given role to one Redis or to a cluster. */
export function connectRedis(target: RedisTarget, role: ConnectionRole, extra: { lazyConnect?: boolean } = {}): RedisClient {
  if (!target.cluster) {
    return new Redis({ ...(role === 'worker' ? workerConnection(target.url) : producerConnection(target.url)), ...extra });
  }
  const seeds = clusterSeeds(target.url);
  const { username, password, tls } = seeds[0]!;
  const options: ClusterOptions = {
    ...extra,
    redisOptions: {
      username,
      password,
      tls,
      connectTimeout: 5_000,
      maxRetriesPerRequest: role === 'worker' ? null : 1,
    },
    enableOfflineQueue: role === 'worker',
    // ioredis' default retries a cluster whose every node is down ten times a second, and each
    // client logs each failure: back off to every 2 s, as a single Redis does.
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    // Nodes announce themselves by address; with TLS the certificate names the host, so keep names as given.
    dnsLookup: (address, callback) => callback(null, address),
  };
  return new Cluster(
    seeds.map(({ host, port }) => ({ host, port })),
    options,
  );
}

/**
 * What BullMQ takes as `connection`: for one Redis, options (each queue opens its own connection,
 * as before); for a cluster, a shared Cluster client, which BullMQ duplicates where it blocks.
 * The caller closes a shared client after the queues that use it.
 */
export function bullConnection(target: RedisTarget, role: ConnectionRole): RedisOptions | Cluster {
  if (!target.cluster) return role === 'worker' ? workerConnection(target.url) : producerConnection(target.url);
  return connectRedis(target, role) as Cluster;
}

/** The seed nodes of a cluster URL list. */
function clusterSeeds(urls: string): RedisOptions[] {
  return urls.split(',').map((url) => fromUrl(url.trim()));
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

/** Answers whether one Redis server answers at `url`, and checks it is new enough for BullMQ. */
export async function pingRedis(url: string, timeoutMs = 1_500): Promise<boolean> {
  return (await probe(url, timeoutMs)) !== undefined;
}

/**
 * Answers whether the target answers (for a cluster: any of its seed nodes, with every slot
 * served); throws when it answers but does not fit: too old for BullMQ, or a cluster node
 * addressed as one Redis and the other way round, which would otherwise fail job by job.
 */
export async function checkRedis(target: RedisTarget, timeoutMs = 1_500): Promise<boolean> {
  for (const url of target.cluster ? target.url.split(',').map((u) => u.trim()) : [target.url]) {
    const info = await probe(url, timeoutMs);
    if (info === undefined) continue;
    if (info.clusterEnabled && !target.cluster) {
      throw new PhotonsError(
        ErrorCodes.CONFIG,
        `Redis at ${redacted(url)} is a node of a Redis Cluster: set PHOTONS_REDIS_CLUSTER=true (redis.cluster; \`cluster: true\` for PhotonsClient), and list one or more of its nodes in PHOTONS_REDIS_URL.`,
      );
    }
    if (!info.clusterEnabled && target.cluster) {
      throw new PhotonsError(
        ErrorCodes.CONFIG,
        `Redis at ${redacted(url)} is not a cluster node (cluster_enabled:0), yet PHOTONS_REDIS_CLUSTER (redis.cluster) is on: turn it off, or point PHOTONS_REDIS_URL at the cluster's nodes.`,
      );
    }
    if (target.cluster && info.clusterState !== 'ok') {
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `The Redis Cluster of ${redacted(url)} does not serve every slot (cluster_state:${info.clusterState}): finish creating it (redis-cli --cluster create …) or bring back the failed shard.`,
      );
    }
    return true;
  }
  return false;
}

/** A ready producer connection to the fleet's Redis; a clear error when it does not answer or fit. */
export async function connectFleet(target: RedisTarget): Promise<RedisClient> {
  if (!(await checkRedis(target))) {
    throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `No Redis answers at ${redacted(target.url)}. Set PHOTONS_REDIS_URL to the fleet's Redis.`);
  }
  const redis = connectRedis(target, 'producer', { lazyConnect: true });
  redis.on('error', () => undefined); // commands fail with the reason; nothing else to do with it
  await redis.connect();
  return redis;
}

interface Probe {
  clusterEnabled: boolean;
  /** CLUSTER INFO's cluster_state ('ok' when every slot is served); empty when not a cluster node. */
  clusterState: string;
}

/** What one server says of itself, or undefined when it does not answer. */
async function probe(url: string, timeoutMs: number): Promise<Probe | undefined> {
  const client = new Redis({ ...fromUrl(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const version = /redis_version:(\d+)\.(\d+)/.exec(await client.info('server'));
    if (version && (Number(version[1]) < 6 || (Number(version[1]) === 6 && Number(version[2]) < 2))) {
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `Redis at ${redacted(url)} is version ${version[1]}.${version[2]}; Photons (BullMQ) needs Redis 6.2 or newer.`,
      );
    }
    const clusterEnabled = /cluster_enabled:1/.test(await client.info('cluster'));
    const clusterState = clusterEnabled ? (/cluster_state:(\w+)/.exec(String(await client.cluster('INFO')))?.[1] ?? '') : '';
    return { clusterEnabled, clusterState };
  } catch (err) {
    if (err instanceof PhotonsError) throw err;
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** The URL (or URLs) without passwords, for logs and messages. */
export function redacted(url: string): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const parsed = new URL(one.trim());
        if (parsed.password) parsed.password = '***';
        return parsed.toString();
      } catch {
        return '<invalid url>';
      }
    })
    .join(',');
}

/**
 * QUIT, or when Redis does not answer within `timeoutMs`, a plain disconnect: a client set to
 * retry for ever would otherwise wait for a Redis that may never come back.
 */
export async function closeClient(client: RedisClient, timeoutMs = 2_000): Promise<void> {
  if (client.status === 'end') return;
  await settlesWithin(client.quit(), timeoutMs);
  client.disconnect(); // a no-op after a QUIT that was answered
}

/** Whether `work` settles, either way, within `ms`: for last words to a Redis that may be gone. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

/** Every key matching `pattern`, by SCAN (never KEYS, which blocks Redis); on a cluster, of every master. */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  if (redis instanceof Cluster && redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

/** Removes every key matching `pattern` (e.g. `${prefix}:*` after a test or a benchmark). */
export async function removeKeys(target: string | RedisOptions | RedisTarget, pattern: string): Promise<number> {
  const redis = typeof target === 'string' ? new Redis(workerConnection(target)) : 'cluster' in target ? connectRedis(target, 'worker') : new Redis(target);
  try {
    const keys = await scanKeys(redis, pattern);
    let removed = 0;
    if (redis instanceof Cluster) {
      // One key a command: on a cluster, a command's keys must share a slot.
      for (let i = 0; i < keys.length; i += 1000)
        removed += (await Promise.all(keys.slice(i, i + 1000).map((key) => redis.unlink(key)))).reduce((a, b) => a + b, 0);
    } else {
      for (let i = 0; i < keys.length; i += 1000) removed += await redis.unlink(...keys.slice(i, i + 1000));
    }
    return removed;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
