// A Redis Cluster of 3 masters on this machine: every function's queue carries its own hash tag and
// so lives on its own shard; jobs of several functions, map runs, cancel, deploy, the fleet status
// and a plain BullMQ producer all work through it. Installs redis-server when missing (root).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../../config';
import { deployBundle } from '../../dispatcher/deployments';
import { Dispatcher } from '../../dispatcher/dispatcher';
import { readFleet } from '../../contract/fleet';
import { checkRedis, connectRedis, removeKeys, type RedisClient } from '../../contract/redis';
import { bundleFunction } from '../../photon-worker/bundle';
import { PhotonsClient } from '../../producer/client';
import { FIXTURES_DIR, PHOTONS_BIN, REDIS_URL, REPO_ROOT, SHORT_TIMINGS, newPrefix, until } from '../dispatcher/helpers';
import { clusterUnavailable, startRedisCluster, type LocalCluster } from '../../bench/redis-cluster';
import { ensurePrograms } from '../tools';

const execFileAsync = promisify(execFile);

/** Fixtures whose hash tags fall in the three slot ranges `redis-cli --cluster create` gives 3 masters. */
const FUNCTIONS = ['arith', 'cancellable', 'chunked'] as const;

describe('Redis Cluster (3 masters on this machine)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster | undefined;
  let redis: RedisClient;
  let dispatcher: Dispatcher;
  let client: PhotonsClient;
  const prefix = newPrefix();
  const scratch = mkdtempSync(path.join(tmpdir(), 'photons-cluster-test-'));

  before(async function () {
    const reason = ensurePrograms('redis-server', 'redis-cli') ?? clusterUnavailable();
    if (reason) {
      console.log(`      (skipped: ${reason}; install redis-server, which brings redis-cli, to cover Redis Cluster)`);
      this.skip();
    }
    cluster = await startRedisCluster(3);
    redis = connectRedis({ url: cluster.url, cluster: true }, 'worker');
    const config = loadConfig({ functionsDir: FIXTURES_DIR, ...SHORT_TIMINGS, 'redis.url': cluster.url, 'redis.cluster': true, 'redis.prefix': prefix });
    dispatcher = new Dispatcher(config, pino({ level: process.env.X_LOG ?? 'error' }));
    await dispatcher.start();
    client = new PhotonsClient({ redisUrl: cluster.url, cluster: true, prefix });
  });

  after(async () => {
    await client?.close();
    await dispatcher?.close();
    await redis?.quit().catch(() => redis.disconnect());
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('spreads the function queues over the shards and runs jobs of each', async () => {
    assert.deepEqual(await client.invoke('arith', { a: 2, b: 3 }, { timeoutMs: 20_000 }), { sum: 5, product: 6, attempt: 1 });

    const items = Array.from({ length: 300 }, (_, n) => ({ n }));
    const chunked = await client.map<{ triple: number }>('chunked', items, { chunkSize: 25 });
    const arith = await client.map<{ sum: number }>(
      'arith',
      items.map(({ n }) => ({ a: n, b: 1 })),
    );
    const [triples, sums] = await Promise.all([collect(chunked), collect(arith)]);
    assert.deepEqual(
      triples.map((r) => r.triple),
      items.map(({ n }) => n * 3),
    );
    assert.deepEqual(
      sums.map((r) => r.sum),
      items.map(({ n }) => n + 1),
    );

    // Each queue's keys sit on the one master that owns its hash tag's slot, and the three
    // functions' slots belong to three different masters.
    const masters = (redis as Cluster).nodes('master');
    const owners = new Set<string>();
    for (const fn of FUNCTIONS) {
      await client.enqueue(fn, fn === 'cancellable' ? { marker: path.join(scratch, 'unused') } : { a: 1, b: 1, n: 1 }, { delayMs: 60_000 });
      const holders: string[] = [];
      for (const node of masters) {
        const [, keys] = await node.scan('0', 'MATCH', `${prefix}:{${fn}}:*`, 'COUNT', 10_000);
        if (keys.length > 0) holders.push(`${node.options.host}:${node.options.port}`);
      }
      assert.equal(holders.length, 1, `the queue of ${fn} lives on one master, found on ${holders.join(', ')}`);
      owners.add(holders[0]!);
    }
    assert.equal(owners.size, 3, 'the three queues are on three different masters');
  });

  it('finds a job by id over every shard, cancels a running job, and reads the fleet from the roll of dispatchers', async () => {
    const marker = path.join(scratch, 'cancelled');
    const jobId = await client.enqueue('cancellable', { marker });
    await until('the job to run', async () => (await client.result(jobId)).progress === 1, 20_000);
    assert.equal((await client.cancel(jobId)).outcome, 'signalled');
    const status = await until(
      'the job to end',
      async () => {
        const s = await client.result(jobId);
        return s.state === 'failed' ? s : undefined;
      },
      20_000,
    );
    assert.equal(status.fn, 'cancellable', 'result() without fn found the job on its shard');
    assert.equal(status.error?.code, 'PHOTONS_ERR_CANCELLED');
    assert.ok(existsSync(marker) && readFileSync(marker, 'utf8').includes('cancelled'), 'the handler saw ctx.signal fire');

    const fleet = await until('the heartbeat', async () => {
      const read = await readFleet(redis, prefix, 500);
      return read.dispatchers.length === 1 ? read : undefined;
    });
    assert.equal(fleet.dispatchers[0]!.id, dispatcher.id);
    assert.deepEqual(
      FUNCTIONS.filter((fn) => !fleet.functions.some((f) => f.fn === fn)),
      [],
      JSON.stringify(fleet.functions),
    );
    assert.ok(fleet.functions.find((f) => f.fn === 'cancellable')!.failed >= 1, JSON.stringify(fleet.functions));
  });

  it('deploys a new function through the cluster: the dispatcher serves it and each job records its version', async () => {
    const file = path.join(scratch, 'shout.ts');
    writeFileSync(file, 'export default async function (input: { word: string }) { return input.word.toUpperCase(); }\n');
    const bundle = await bundleFunction(file);
    await deployBundle(redis, prefix, bundle);
    await until('the deployed function registered', async () => (await client.functions()).some((f) => f.name === 'shout'), 20_000);
    const { jobId, outcome } = await client.invokeSettled('shout', { word: 'photons' }, { timeoutMs: 20_000 });
    assert.deepEqual(outcome, { ok: true, value: 'PHOTONS' });
    await until('the version recorded', async () => (await client.result(jobId)).version === bundle.hash, 10_000);
  });

  it('takes jobs from a plain BullMQ producer that names the hash-tagged queue', async () => {
    const connection = new Cluster(
      cluster!.nodes.map((node) => ({ host: '127.0.0.1', port: Number(new URL(node.url).port) })),
      {
        redisOptions: { maxRetriesPerRequest: null },
      },
    );
    const queue = new Queue('{arith}', { connection, prefix });
    try {
      const job = await queue.add('arith', { a: 20, b: 22 });
      // Read back from the queue, not waited for with QueueEvents: on the cluster, a job answered
      // within milliseconds of being added was seen completed while waitUntilFinished still
      // waited for its event (1 run in 5).
      const done = await until(
        'the job to finish',
        async () => {
          const read = await queue.getJob(job.id!);
          return read?.finishedOn ? read : undefined;
        },
        20_000,
      );
      assert.deepEqual(done.returnvalue, { sum: 42, product: 440, attempt: 1 });
    } finally {
      await queue.close();
      await connection.quit();
    }
  });

  it('refuses a cluster addressed as one Redis, and one Redis addressed as a cluster, with PHOTONS_ERR_CONFIG', async () => {
    const node = cluster!.nodes[0]!.url;
    await assert.rejects(checkRedis({ url: node, cluster: false }), {
      code: 'PHOTONS_ERR_CONFIG',
      message: /is a node of a Redis Cluster: set PHOTONS_REDIS_CLUSTER=true/,
    });
    await assert.rejects(checkRedis({ url: REDIS_URL, cluster: true }), { code: 'PHOTONS_ERR_CONFIG', message: /is not a cluster node/ });
    const misfit = new PhotonsClient({ redisUrl: node, prefix });
    try {
      await assert.rejects(misfit.invoke('arith', { a: 1, b: 1 }), { code: 'PHOTONS_ERR_CONFIG', message: /`cluster: true` for PhotonsClient/ });
    } finally {
      await misfit.close();
    }

    const status = (env: Record<string, string>) =>
      execFileAsync(process.execPath, [PHOTONS_BIN, 'status', '--json'], { cwd: REPO_ROOT, env: { ...process.env, PHOTONS_REDIS_PREFIX: prefix, ...env } });
    await assert.rejects(status({ PHOTONS_REDIS_URL: node }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /is a node of a Redis Cluster: set PHOTONS_REDIS_CLUSTER=true.*\[PHOTONS_ERR_CONFIG\]/);
      return true;
    });
    const api = execFileAsync(process.execPath, [PHOTONS_BIN, 'api', '--port', '0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PHOTONS_REDIS_URL: node },
      timeout: 20_000,
    });
    await assert.rejects(api, (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /photons api: Redis at .* is a node of a Redis Cluster.*\[PHOTONS_ERR_CONFIG\]/);
      return true;
    });
    const { stdout } = await status({ PHOTONS_REDIS_URL: node, PHOTONS_REDIS_CLUSTER: 'true' });
    const fleet = JSON.parse(stdout) as { dispatchers: unknown[]; functions: Array<{ fn: string }> };
    assert.equal(fleet.dispatchers.length, 1);
    // Every function of the fixtures folder; `shout` too when the deploy test ran first.
    const files = readdirSync(FIXTURES_DIR)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => name.slice(0, -3))
      .sort();
    assert.deepEqual(
      fleet.functions.map((f) => f.fn).filter((fn) => fn !== 'shout'),
      files,
    );
  });

  it('removes keys of every shard', async () => {
    // A prefix no dispatcher serves (a served one gets its heartbeat written again), with a job on each shard.
    const own = newPrefix();
    const connection = new Cluster(
      cluster!.nodes.map((node) => ({ host: '127.0.0.1', port: Number(new URL(node.url).port) })),
      {
        redisOptions: { maxRetriesPerRequest: null },
      },
    );
    try {
      for (const fn of FUNCTIONS) {
        const queue = new Queue(`{${fn}}`, { connection, prefix: own });
        await queue.add(fn, { a: 1, b: 1 });
        await queue.close();
      }
    } finally {
      await connection.quit();
    }
    const keysOf = async (): Promise<number[]> => Promise.all((redis as Cluster).nodes('master').map(async (node) => (await node.keys(`${own}:*`)).length));
    assert.ok(
      (await keysOf()).every((n) => n > 0),
      'a job on every shard',
    );
    assert.ok((await removeKeys({ url: cluster!.url, cluster: true }, `${own}:*`)) > 0);
    assert.deepEqual(await keysOf(), [0, 0, 0]);
  });
});

async function collect<T>(run: AsyncIterable<{ index: number; ok: boolean; value?: T }>): Promise<T[]> {
  const values: T[] = [];
  for await (const item of run) {
    assert.ok(item.ok, JSON.stringify(item));
    values[item.index] = item.value!;
  }
  return values;
}
