// Dispatcher processes as deployed (`node bin/photons.js dispatcher|start`): one SIGKILLed among
// three loses no job, SIGTERM drains or hands jobs back without spending attempts and exits 0,
// and `photons start` brings its own Redis when none answers.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { pingRedis, workerConnection } from '../../contract/redis';
import { freePort } from '../../dispatcher/redis-server';
import { FIXTURES_DIR, TestBed, jobsById, removeKeys, until, type SpawnedDispatcher } from './helpers';
import { ensurePrograms } from '../tools';

interface ArithOutput {
  sum: number;
  product: number;
  attempt: number;
}

/** Adds `count` arith jobs that each wait `ms`; job i computes i + 3 and i × 3. */
async function addArith(bed: TestBed, count: number, ms: number): Promise<string[]> {
  const jobs = await bed.queue('arith').addBulk(Array.from({ length: count }, (_, i) => ({ name: 'arith', data: { a: i, b: 3, ms } })));
  return jobs.map((j) => j.id!);
}

function assertArith(results: Map<string, unknown>, ids: string[]): void {
  ids.forEach((id, i) => {
    const output = results.get(id) as ArithOutput | undefined;
    assert.deepEqual(output, { sum: i + 3, product: i * 3, attempt: 1 }, `job ${id} (a=${i})`);
  });
}

/** The arith jobs a dispatcher process runs right now, from its heartbeat. */
async function inFlight(bed: TestBed, spawned: SpawnedDispatcher): Promise<number> {
  const stats = (await bed.heartbeats()).find((s) => s.pid === spawned.child.pid);
  return stats?.functions.find((f) => f.fn === 'arith')?.photonsInFlight ?? 0;
}

describe('dispatcher processes', function () {
  this.timeout(60_000);
  let bed: TestBed;

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  it('SIGKILL of one of three dispatchers mid-run: every job completes, once, with its right result', async () => {
    const tracker = await bed.tracker('arith');
    // A small concurrency each, so that the three share the run.
    const dispatchers = [0, 1, 2].map(() => bed.spawn('dispatcher', { PHOTONS_CONCURRENCY: '10' }));
    await Promise.all(dispatchers.map((d) => bed.serving(d.child.pid!)));
    const ids = await addArith(bed, 200, 150);

    // Kill one while it holds running jobs (its heartbeat says so).
    const victim = await until(
      'a dispatcher with jobs in flight',
      async () => {
        for (const d of dispatchers) if ((await inFlight(bed, d)) > 0) return d;
        return undefined;
      },
      15_000,
    );
    victim.child.kill('SIGKILL');
    assert.equal((await victim.exited).signal, 'SIGKILL');

    const { completed, failed } = await tracker.wait(ids, 40_000);
    assert.equal(failed.size, 0, [...failed.values()].slice(0, 3).join('\n'));
    assert.equal(completed.size, ids.length);
    // attempt 1 everywhere: the jobs taken back from the dead dispatcher lost no attempt.
    assertArith(completed, ids);
    const jobs = await jobsById(bed.queue('arith'), ids);
    assert.ok(
      jobs.some((j) => j.stalledCounter > 0),
      'some jobs were taken back from the killed dispatcher',
    );
    assert.deepEqual(await bed.queue('arith').getJobCounts('completed', 'failed', 'waiting', 'active'), {
      completed: ids.length,
      failed: 0,
      waiting: 0,
      paused: 0,
      active: 0,
    });
  });

  it('SIGTERM: running jobs finish within the grace period, waiting ones stay queued, exit code 0', async () => {
    const tracker = await bed.tracker('arith');
    const dispatcher = bed.spawn('dispatcher', { PHOTONS_CONCURRENCY: '10', PHOTONS_SHUTDOWN_GRACE_MS: '20000' });
    await bed.serving(dispatcher.child.pid!);
    // Long enough that a heartbeat (every 500 ms) sees all 10 running even on a loaded machine.
    const ids = await addArith(bed, 20, 2_000);
    await until('10 jobs running', async () => (await inFlight(bed, dispatcher)) === 10, 15_000);

    dispatcher.child.kill('SIGTERM');
    const exit = await dispatcher.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, dispatcher.output());

    // The 10 it held finished before it exited; it fetched no more once told to stop.
    const jobs = await jobsById(bed.queue('arith'), ids);
    const done = jobs.filter((j) => j.finishedOn);
    assert.equal(done.length, 10);
    const results = new Map(done.map((j) => [j.id!, j.returnvalue as unknown]));
    for (const job of done) {
      const { a } = job.data as { a: number };
      assert.deepEqual(job.returnvalue, { sum: a + 3, product: a * 3, attempt: 1 });
    }
    const waiting = jobs.filter((j) => !j.finishedOn);
    for (const job of waiting) {
      assert.equal(await bed.queue('arith').getJobState(job.id!), 'waiting');
      assert.equal(job.attemptsStarted, 0, `job ${job.id} was never started`);
    }

    // A new dispatcher takes the rest.
    await bed.dispatcher();
    const { completed } = await tracker.wait(ids, 20_000);
    assertArith(new Map([...results, ...completed]), ids);
  });

  it('SIGTERM past the grace period: the running jobs go back to the queue with no attempt spent, another dispatcher completes them', async () => {
    const tracker = await bed.tracker('arith');
    const dispatcher = bed.spawn('dispatcher', { PHOTONS_CONCURRENCY: '10', PHOTONS_SHUTDOWN_GRACE_MS: '300' });
    await bed.serving(dispatcher.child.pid!);
    const ids = await addArith(bed, 10, 3_000);
    await until('10 jobs running', async () => (await inFlight(bed, dispatcher)) === 10, 15_000);

    dispatcher.child.kill('SIGTERM');
    const exit = await dispatcher.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, dispatcher.output());

    const handedBack = await jobsById(bed.queue('arith'), ids);
    for (const job of handedBack) {
      assert.equal(await bed.queue('arith').getJobState(job.id!), 'waiting', `job ${job.id}`);
      assert.equal(job.attemptsMade, 0, `job ${job.id} spent an attempt`);
      assert.equal(job.attemptsStarted, 1);
    }
    assert.equal(tracker.count, 0, 'no job finished or failed');

    await bed.dispatcher();
    const { completed, failed } = await tracker.wait(ids, 20_000);
    assert.equal(failed.size, 0, [...failed.values()].join('\n'));
    assertArith(completed, ids);
    for (const job of await jobsById(bed.queue('arith'), ids)) assert.equal(job.attemptsMade, 1, `job ${job.id}`);
  });
});

describe('photons start without a Redis', function () {
  this.timeout(60_000);
  let bed: TestBed;
  let redisPid: number | undefined;

  beforeEach(function () {
    const reason = ensurePrograms('redis-server');
    if (reason) {
      console.log(`      (skipped: ${reason}, so \`photons start\` cannot start a private Redis)`);
      this.skip();
    }
    bed = new TestBed();
    redisPid = undefined;
  });

  afterEach(async () => {
    await bed?.cleanup();
    // Only if the test failed before `photons start` stopped the Redis it started.
    if (redisPid !== undefined) {
      try {
        process.kill(redisPid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  it('starts redis-server at the configured address, says so in one log line, serves jobs there and the HTTP API, stops both on SIGTERM', async () => {
    const deadPort = await freePort();
    const apiPort = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'photons-data-'));
    const url = `redis://127.0.0.1:${deadPort}`;
    const start = bed.spawn('start', {
      PHOTONS_REDIS_URL: url,
      PHOTONS_DATA_DIR: dataDir,
      PHOTONS_FUNCTIONS_DIR: FIXTURES_DIR,
      PHOTONS_LOG_LEVEL: 'info',
      PHOTONS_LOG_FORMAT: 'json',
      PHOTONS_API_PORT: String(apiPort),
    });
    const line = await until(
      'the log line of the Redis it started',
      () =>
        start
          .output()
          .split('\n')
          .find((l) => l.includes('started redis-server there')),
      20_000,
    );
    const logged = { ...(JSON.parse(line) as { redisPid: number; msg: string }), url };
    redisPid = logged.redisPid;
    assert.match(logged.msg, new RegExp(`^no Redis answered at redis://127\\.0\\.0\\.1:${deadPort}.*started redis-server there`));

    const connection = workerConnection(logged.url);
    const queue = new Queue('arith', { connection, prefix: bed.prefix });
    try {
      const job = await queue.add('arith', { a: 2, b: 5 });
      const events = new QueueEvents('arith', { connection, prefix: bed.prefix });
      try {
        assert.deepEqual(await job.waitUntilFinished(events, 20_000), { sum: 7, product: 10, attempt: 1 });
      } finally {
        await events.close();
      }
    } finally {
      await queue.close();
    }
    await until('the HTTP API log line', () => start.output().includes(`HTTP API at http://127.0.0.1:${apiPort}`), 20_000);
    const functions = (await (await fetch(`http://127.0.0.1:${apiPort}/functions`)).json()) as { functions: Array<{ name: string }> };
    assert.ok(JSON.stringify(functions).includes('arith'), JSON.stringify(functions));
    await removeKeys(connection, `${bed.prefix}:*`);

    start.child.kill('SIGTERM');
    assert.deepEqual(await start.exited, { code: 0, signal: null }, start.output());
    assert.equal(
      start
        .output()
        .split('\n')
        .filter((l) => l.includes('started redis-server there')).length,
      1,
    );
    assert.equal(await pingRedis(logged.url, 500), false, 'the Redis it started was stopped');
    rmSync(dataDir, { recursive: true, force: true });
    assert.throws(() => process.kill(logged.redisPid, 0), { code: 'ESRCH' });
    redisPid = undefined;
    await assert.rejects(fetch(`http://127.0.0.1:${apiPort}/health`), 'the API stopped listening');
  });
});
