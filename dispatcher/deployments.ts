// Function versions across hosts: `photons deploy` stores a bundle in Redis under its content
// hash and names it the function's current version; every dispatcher, on any host, loads exactly
// that bundle and switches to it when told, while the version before finishes its running jobs.
import * as path from 'node:path';
import type { FunctionBundle } from '../photon-worker/bundle';
import { photonsKey, type RedisClient } from './redis';

/** Pub/sub channel (under the key prefix) on which a new version reaches every dispatcher. */
export const DEPLOY_CHANNEL = 'deploy';

export interface DeployNotice {
  fn: string;
  hash: string;
}

/** Stores the bundle by content hash and makes it the function's current version; tells every dispatcher. */
export async function deployBundle(redis: RedisClient, prefix: string, bundle: FunctionBundle): Promise<void> {
  // The bundle first, then the name pointing at it: no one ever reads a version that is not
  // there. Two commands, not a MULTI: on a cluster the two keys may sit on different shards.
  await redis.set(photonsKey(prefix, 'bundle', bundle.hash), JSON.stringify(bundle));
  await redis.hset(photonsKey(prefix, 'deployed'), bundle.name, bundle.hash);
  await redis.publish(photonsKey(prefix, DEPLOY_CHANNEL), JSON.stringify({ fn: bundle.name, hash: bundle.hash } satisfies DeployNotice));
}

/**
 * A stored bundle, placed in this host's functions folder: the path it was bundled at may not
 * exist here, and its `require` of node_modules packages must resolve from this installation.
 */
export async function loadBundle(redis: RedisClient, prefix: string, hash: string, functionsDir: string): Promise<FunctionBundle | undefined> {
  const stored = await redis.get(photonsKey(prefix, 'bundle', hash));
  if (!stored) return undefined;
  const bundle = JSON.parse(stored) as FunctionBundle;
  return { ...bundle, file: path.join(path.resolve(functionsDir), path.basename(bundle.file)) };
}

/** The current version of every deployed function. */
export async function loadDeployed(redis: RedisClient, prefix: string, functionsDir: string): Promise<Map<string, FunctionBundle>> {
  const current = await redis.hgetall(photonsKey(prefix, 'deployed'));
  const bundles = new Map<string, FunctionBundle>();
  await Promise.all(
    Object.entries(current).map(async ([fn, hash]) => {
      const bundle = await loadBundle(redis, prefix, hash, functionsDir);
      if (bundle) bundles.set(fn, bundle);
    }),
  );
  return bundles;
}

/**
 * Which version ran which job, written in batches (one round trip per flush, not per job) to a
 * hash per function that expires with the results: `photons jobs <id>` shows it.
 */
export class VersionLog {
  private pending = new Map<string, Array<[string, string]>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSec: number,
  ) {}

  record(fn: string, jobId: string, hash: string): void {
    let entries = this.pending.get(fn);
    if (!entries) this.pending.set(fn, (entries = []));
    entries.push([jobId, hash]);
    this.timer ??= setTimeout(() => void this.flush(), 50);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = new Map();
    if (pending.size === 0) return;
    // One MULTI per function: its hash is one key, so this holds on a cluster too.
    await Promise.all(
      [...pending].map(([fn, entries]) => {
        const key = photonsKey(this.prefix, 'versions', fn);
        return this.redis.multi().hset(key, Object.fromEntries(entries)).expire(key, this.ttlSec).exec();
      }),
    ).catch(() => undefined); // a lost record costs a label, never a job
  }
}

export async function versionOf(redis: RedisClient, prefix: string, fn: string, jobId: string): Promise<string | undefined> {
  return (await redis.hget(photonsKey(prefix, 'versions', fn), jobId)) ?? undefined;
}
