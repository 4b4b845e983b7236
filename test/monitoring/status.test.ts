// `photons status` as a user runs it, against a dispatcher in this process with jobs held in
// flight: its numbers must add up to what the test enqueued, released and still holds.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import type { FleetStatus } from '../../contract/fleet';
import { HEARTBEAT_MS, HeldJobs, PHOTONS_BIN, REDIS_URL } from './helpers';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

describe('photons status', function () {
  this.timeout(60_000);
  const held = new HeldJobs();
  /** At most this many jobs active at once, so that some wait in the queue. */
  const CONCURRENCY = 3;
  const DONE = 2;
  const HELD = 5;

  before(async () => {
    const dispatcher = await held.start({ 'dispatcher.concurrency': CONCURRENCY });
    assert.deepEqual(dispatcher.functionNames, ['held']);
    const first = held.gate();
    await held.release(first);
    const tracker = await held.bed.tracker('held');
    const done = await held.enqueue(DONE, first);
    await tracker.wait(
      done.map((j) => j.id!),
      15_000,
    );
    await held.enqueue(HELD, held.gate());
    // Heartbeats lag the queue by up to one period: wait until both agree on what is running.
    await held.fleetWhere('the held jobs to be active and in the heartbeat', (f) => f.active === CONCURRENCY && f.photonsInFlight === CONCURRENCY);
  });

  after(() => held.cleanup());

  // Asynchronous on purpose: the dispatcher under test runs in this process and must keep going.
  function photons(...args: string[]): Promise<Ran> {
    const env = {
      ...process.env,
      PHOTONS_REDIS_URL: REDIS_URL,
      PHOTONS_REDIS_PREFIX: held.bed.prefix,
      PHOTONS_HEARTBEAT_MS: String(HEARTBEAT_MS),
      PHOTONS_LOG_LEVEL: 'warn',
    };
    return new Promise((resolve) => {
      execFile(process.execPath, [PHOTONS_BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('--json: queue counts, runtimes, photons and the dispatcher add up to what was enqueued', async () => {
    const ran = await photons('status', '--json');
    assert.equal(ran.code, 0, ran.stderr);
    const fleet = JSON.parse(ran.stdout) as FleetStatus;
    const fn = fleet.functions.find((f) => f.fn === 'held');
    assert.ok(fn, `held is listed: ${ran.stdout}`);
    assert.equal(fn.error, undefined);
    assert.equal(fn.waiting + fn.active, DONE + HELD - DONE, 'waiting + active = enqueued - done');
    assert.equal(fn.active, CONCURRENCY);
    assert.equal(fn.photonsInFlight, fn.active, 'every active job is a photon in a runtime');
    assert.equal(fn.completed, DONE);
    assert.equal(fn.failed, 0);
    assert.equal(fn.photonsCompleted, DONE);
    assert.ok(fn.runtimes >= 1, `runtimes: ${fn.runtimes}`);
    assert.equal(
      fn.photonsPerRuntime.reduce((a, b) => a + b, 0),
      fn.photonsInFlight,
    );
    assert.equal(fn.heapPerRuntime.length, fn.runtimes);
    assert.ok(
      fn.heapPerRuntime.every((heap) => heap > 0),
      `heap per runtime: ${fn.heapPerRuntime.join(', ')}`,
    );
    assert.ok(fn.runtimeBaseHeap > 0, 'the runtime size was measured');
    assert.ok(fn.coldStarts >= 1, `cold starts: ${fn.coldStarts}`);
    assert.ok(fn.jobsPerSec >= 0 && fn.photonsFailed === 0);

    assert.equal(fleet.dispatchers.length, 1);
    const [dispatcher] = fleet.dispatchers;
    assert.equal(dispatcher!.id, held.dispatcher!.id);
    assert.equal(dispatcher!.pid, process.pid);
    assert.equal(dispatcher!.stale, false);
    assert.equal(dispatcher!.mode, 'photon');
    // How fresh the heartbeat is depends on the machine's load; `stale: false` above is what a reader acts on.
    assert.ok(Number.isFinite(dispatcher!.heartbeatAgeMs) && dispatcher!.heartbeatAgeMs >= 0, `heartbeat age ${dispatcher!.heartbeatAgeMs} ms`);
  });

  it('prints a table a person can read, with the function and the dispatcher', async () => {
    const ran = await photons('status');
    assert.equal(ran.code, 0, ran.stderr);
    const line = ran.stdout.split('\n').find((l) => l.startsWith('held'));
    assert.ok(line, ran.stdout);
    // function, waiting, active: the first three columns.
    assert.deepEqual(line.trim().split(/\s+/).slice(0, 3), ['held', String(HELD - CONCURRENCY), String(CONCURRENCY)]);
    assert.match(ran.stdout, new RegExp(held.dispatcher!.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.doesNotMatch(ran.stdout, /STALE/);
  });

  it('exits with a clear message when no Redis answers', async () => {
    const env = { ...process.env, PHOTONS_REDIS_URL: 'redis://127.0.0.1:1', PHOTONS_LOG_LEVEL: 'warn' };
    const ran = await new Promise<Ran>((resolve) => {
      execFile(process.execPath, [PHOTONS_BIN, 'status', '--json'], { env }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /No Redis answers at redis:\/\/127\.0\.0\.1:1/);
  });
});
