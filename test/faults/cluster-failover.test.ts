// A Redis Cluster of 3 masters with a replica each: SIGKILL the master holding a function's queue in
// the middle of a map run; its replica takes over, the dispatcher and the run carry on, and every
// item comes back. Installs redis-server when missing and running as root, else skips.
import { strict as assert } from 'node:assert';
import { type Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { clusterUnavailable, startRedisCluster, type LocalCluster } from '../../bench/redis-cluster';
import { loadConfig } from '../../config';
import { Dispatcher } from '../../dispatcher/dispatcher';
import { connectRedis } from '../../contract/redis';
import { PhotonsClient } from '../../producer/client';
import { FIXTURES_DIR, SHORT_TIMINGS, newPrefix, until } from '../dispatcher/helpers';
import { ensurePrograms } from '../tools';

describe('Redis Cluster failover (3 masters, 3 replicas)', function () {
  this.timeout(180_000);
  let cluster: LocalCluster | undefined;
  let dispatcher: Dispatcher | undefined;
  let client: PhotonsClient | undefined;

  before(function () {
    const missing = ensurePrograms('redis-server', 'redis-cli') ?? clusterUnavailable();
    if (missing) {
      console.log(`      (skipped: ${missing})`);
      this.skip();
    }
  });

  after(async () => {
    await client?.close();
    await dispatcher?.close();
    await cluster?.stop();
  });

  it('a map run and its dispatcher ride out the loss of the master holding the queue', async () => {
    cluster = await startRedisCluster(3, 1, 2_000);
    const prefix = newPrefix();
    const config = loadConfig({ functionsDir: FIXTURES_DIR, ...SHORT_TIMINGS, 'redis.url': cluster.url, 'redis.cluster': true, 'redis.prefix': prefix });
    dispatcher = new Dispatcher(config, pino({ level: 'silent' }));
    await dispatcher.start();
    client = new PhotonsClient({ redisUrl: cluster.url, cluster: true, prefix });

    const redis = connectRedis({ url: cluster.url, cluster: true }, 'worker') as Cluster;
    let master: string;
    try {
      const slot = await redis.cluster('KEYSLOT', '{arith}');
      const range = (await redis.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to)!;
      master = String(range[2]![1]);
    } finally {
      redis.disconnect();
    }

    const items = Array.from({ length: 1_500 }, (_, n) => ({ a: n, b: 1, ms: 100 }));
    const run = await client.map<{ sum: number }>('arith', items);
    const sums: number[] = [];
    let killedAt = 0;
    for await (const item of run) {
      assert.ok(item.ok, JSON.stringify(item));
      sums[item.index] = item.value.sum;
      // Once every job is in and its replica has all of it (replication is asynchronous: a job
      // added in the instant before its master dies may not have reached the replica), and some
      // jobs have finished.
      if (!killedAt && run.progress().state === 'enqueued' && sums.filter((s) => s !== undefined).length >= 100) {
        const node = cluster.nodes.find((n) => new URL(n.url).port === master)!;
        await replicaCaughtUp(node.url);
        node.process.kill('SIGKILL');
        killedAt = Date.now();
      }
    }
    assert.ok(killedAt > 0, 'the master was killed during the run');
    assert.deepEqual(
      sums,
      items.map(({ a }) => a + 1),
      'every item came back, in its place',
    );
    // The dispatcher serves on after the failover: a new job goes through.
    const after = await until(
      'a job after the failover',
      () => client!.invoke<{ sum: number }>('arith', { a: 2, b: 2 }, { timeoutMs: 10_000 }).catch(() => undefined),
      60_000,
      500,
    );
    assert.equal(after.sum, 4, JSON.stringify(after));
  });
});

/** Waits until the master's replica has acknowledged everything the master had written so far. */
async function replicaCaughtUp(url: string): Promise<void> {
  const master = new Redis(url);
  try {
    const offset = Number(/master_repl_offset:(\d+)/.exec(await master.info('replication'))?.[1]);
    await until(
      'the replica to catch up',
      async () => {
        const replica = Number(/slave0:.*offset=(\d+)/.exec(await master.info('replication'))?.[1]);
        return replica >= offset;
      },
      10_000,
      20,
    );
  } finally {
    master.disconnect();
  }
}
