// Function versions across hosts: `photons deploy` stores a bundle in Redis under its content
// hash and names it the function's current version; every dispatcher, on any host, loads exactly
// that bundle and switches to it when told, while the version before finishes its running jobs.
import * as path from 'node:path';
import { PhotonsError } from '../errors';
import type { FunctionBundle } from '../photon-worker/bundle';
import { signBundle, verifyBundle, type StoredBundle } from './deploy-verify';
import { DEPLOY_CHANNEL } from '../contract/channels';
import { photonsKeys } from '../contract/keys';
import { FUNCTION_EXTENSIONS } from '../contract/rules';
import type { RedisClient } from '../contract/redis';
import type { DeployNotice } from '../contract/wire';

/**
 * Stores the bundle by content hash and makes it the function's current version; tells every
 * dispatcher. With a deploy key, the stored bundle carries its signature.
 */
export async function deployBundle(redis: RedisClient, prefix: string, bundle: FunctionBundle, key = ''): Promise<void> {
  const stored: StoredBundle = key ? { ...bundle, signature: signBundle(key, bundle.hash, bundle.name) } : bundle;
  // The bundle first, then the name pointing at it: no one ever reads a version that is not
  // there. Two commands, not a MULTI: on a cluster the two keys may sit on different shards.
  const keys = photonsKeys(prefix);
  await redis.set(keys.bundle(bundle.hash), JSON.stringify(stored));
  await redis.hset(keys.deployed, bundle.name, bundle.hash);
  await redis.publish(keys.channel(DEPLOY_CHANNEL), JSON.stringify({ fn: bundle.name, hash: bundle.hash } satisfies DeployNotice));
}

/**
 * A stored bundle, checked (deploy-verify.ts: a PhotonsError DEPLOY_REJECTED if it may not run),
 * placed in this host's functions folder: the path it was bundled at may not exist here, and its
 * `require` of node_modules packages must resolve from this installation.
 */
export async function loadBundle(
  redis: RedisClient,
  prefix: string,
  fn: string,
  hash: string,
  functionsDir: string,
  key: string,
): Promise<FunctionBundle | undefined> {
  const stored = await redis.get(photonsKeys(prefix).bundle(hash));
  if (!stored) return undefined;
  const bundle = verifyBundle(stored, fn, hash, key);
  // Its own name, not the stored path's: a path from Redis must not place it outside the folder.
  const extension = FUNCTION_EXTENSIONS.includes(path.extname(bundle.file)) ? path.extname(bundle.file) : '.js';
  return { ...bundle, file: path.join(path.resolve(functionsDir), `${bundle.name}${extension}`) };
}

/** The current version of every deployed function; one refused is handed to `onRejected` and left out. */
export async function loadDeployed(
  redis: RedisClient,
  prefix: string,
  functionsDir: string,
  key: string,
  onRejected: (fn: string, err: PhotonsError) => void,
): Promise<Map<string, FunctionBundle>> {
  const current = await redis.hgetall(photonsKeys(prefix).deployed);
  const bundles = new Map<string, FunctionBundle>();
  await Promise.all(
    Object.entries(current).map(async ([fn, hash]) => {
      try {
        const bundle = await loadBundle(redis, prefix, fn, hash, functionsDir, key);
        if (bundle) bundles.set(fn, bundle);
      } catch (err) {
        if (!(err instanceof PhotonsError)) throw err;
        onRejected(fn, err);
      }
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
        const key = photonsKeys(this.prefix).versions(fn);
        return this.redis.multi().hset(key, Object.fromEntries(entries)).expire(key, this.ttlSec).exec();
      }),
    ).catch(() => undefined); // a lost record costs a label, never a job
  }
}
