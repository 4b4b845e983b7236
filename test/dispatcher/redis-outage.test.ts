// A Redis that goes away and comes back (restarted empty, as an unpersisted Redis does): the
// dispatcher reconnects by itself, registers its functions again and serves the jobs added afterwards.
// A Redis that stays away does not keep a dispatcher from stopping.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pingRedis } from '../../contract/redis';
import { photonsKey } from '../../contract/keys';
import { startRedisServer, type LocalRedis } from '../../dispatcher/redis-server';
import { PhotonsClient } from '../../producer/client';
import { FinishTracker, TestBed, until } from './helpers';

describe('dispatcher: Redis restarts', function () {
  this.timeout(60_000);
  let redis: LocalRedis;
  let restarted: ReturnType<typeof spawn> | undefined;
  let bed: TestBed;

  before(async () => {
    redis = await startRedisServer();
    bed = new TestBed(redis.url);
  });

  after(async () => {
    await bed.cleanup();
    await redis.stop();
    if (restarted && restarted.exitCode === null) {
      restarted.kill('SIGTERM');
      await once(restarted, 'exit');
    }
  });

  it('serves again once Redis is back on the same port', async () => {
    const dispatcher = await bed.dispatcher();
    const tracker = await bed.tracker('arith'); // listening before the job goes in, so its end is not missed
    const first = await bed.queue('arith').add('arith', { a: 1, b: 2 });
    await tracker.wait([first.id!], 10_000);

    await redis.stop();
    assert.equal(await pingRedis(redis.url, 300), false);
    const port = new URL(redis.url).port;
    restarted = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('the restarted Redis to answer', () => pingRedis(redis.url, 300), 10_000);

    // The restarted Redis is empty: a heartbeat there means the dispatcher reconnected.
    await until('a heartbeat in the restarted Redis', async () => (await bed.heartbeats()).some((s) => s.id === dispatcher.id), 15_000);
    // Producers refuse functions missing from the registry: it must come back with the dispatcher.
    const entry = await until(
      'the function registry in the restarted Redis',
      () => bed.redis.hget(photonsKey(bed.prefix, 'functions'), 'arith').then((v) => v ?? undefined),
      5_000,
    );
    assert.match(entry, /"file":".*arith\.ts","hash":"[0-9a-f]+"/);
    // Job ids start again at 1 in the empty Redis: a tracker of its own, not the one that saw job 1.
    const again = new FinishTracker(await bed.events('arith'));
    const second = await bed.queue('arith').add('arith', { a: 20, b: 22 });
    const { completed } = await again.wait([second.id!], 20_000);
    assert.deepEqual(completed.get(second.id!), { sum: 42, product: 440, attempt: 1 });
  });

  it('stops on SIGTERM though Redis is gone for good: after the grace period, exit 1, saying why', async () => {
    let own = await startRedisServer();
    const other = new TestBed(own.url);
    try {
      const spawned = other.spawn('dispatcher');
      await other.serving(spawned.child.pid!);
      await own.stop();
      spawned.child.kill('SIGTERM');
      // SHORT_TIMINGS_ENV: a grace period of 3 s, then 5 s for Redis to take the jobs back; a
      // dispatcher waiting for Redis for ever would outlast the test's timeout here.
      const { code } = await spawned.exited;
      assert.equal(code, 1, spawned.output());
      // Holding no job, its queue workers may close without Redis; either way it says Redis is gone.
      assert.match(spawned.output(), /Redis does not answer: (stopping without handing jobs back|this dispatcher's heartbeat expires by itself)/);
    } finally {
      // Back on the same port, so that the bed's clients can close and clean up.
      own = await startRedisServer([], Number(new URL(own.url).port));
      await other.cleanup();
      await own.stop();
    }
  });

  it('a map run rides out a Redis restart (AOF): every item comes back, the iteration never breaks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'photons-outage-'));
    const persistence = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
    let own = await startRedisServer(persistence);
    const port = Number(new URL(own.url).port);
    const other = new TestBed(own.url);
    const client = new PhotonsClient({ redisUrl: own.url, prefix: other.prefix });
    try {
      await other.dispatcher();
      const items = Array.from({ length: 600 }, (_, n) => ({ a: n, b: 1, ms: 50 }));
      const run = await client.map<{ sum: number }>('arith', items);
      const sums: number[] = [];
      let restarted = false;
      for await (const item of run) {
        assert.ok(item.ok, JSON.stringify(item));
        sums[item.index] = item.value.sum;
        if (!restarted && run.progress().state === 'enqueued' && sums.filter((v) => v !== undefined).length >= 50) {
          await own.stop();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          own = await startRedisServer(persistence, port);
          restarted = true;
        }
      }
      assert.ok(restarted, 'Redis was restarted during the run');
      assert.deepEqual(
        sums,
        items.map(({ a }) => a + 1),
      );
    } finally {
      await client.close();
      await other.cleanup();
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
