// Heartbeats: while jobs run, each dispatcher's key holds its stats (per function: runtimes with
// their heap, photons in flight, cold starts, completed, failed); the key goes when it stops or dies.
import { strict as assert } from 'node:assert';
import type { DispatcherStats } from '../../dispatcher/dispatcher';
import { photonsKey } from '../../contract/keys';
import { TestBed, until } from './helpers';

const HEARTBEAT_MS = 500;

describe('dispatcher: heartbeats in Redis', function () {
  this.timeout(30_000);
  let bed: TestBed;

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  async function read(id: string): Promise<DispatcherStats | undefined> {
    const value = await bed.redis.get(photonsKey(bed.prefix, 'dispatcher', id));
    return value ? (JSON.parse(value) as DispatcherStats) : undefined;
  }

  it('publishes per-function stats while jobs run, and removes them when closed', async () => {
    const dispatcher = await bed.dispatcher();
    const tracker = await bed.tracker('arith');
    const jobs = await bed.queue('arith').addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'arith', data: { a: i, b: 1, ms: 1_500 } })));
    const key = photonsKey(bed.prefix, 'dispatcher', dispatcher.id);

    const running = await until(
      'a heartbeat with the 6 jobs in flight',
      async () => {
        const stats = await read(dispatcher.id);
        const arith = stats?.functions.find((f) => f.fn === 'arith');
        return arith && arith.photonsInFlight === 6 ? stats : undefined;
      },
      10_000,
    );
    assert.equal(running.id, dispatcher.id);
    assert.equal(running.pid, process.pid);
    const arith = running.functions.find((f) => f.fn === 'arith')!;
    assert.equal(arith.mode, 'photon');
    assert.equal(arith.coldStarts, 1);
    assert.deepEqual([arith.completed, arith.failed], [0, 0]);
    assert.equal(arith.runtimes.length, 1);
    const [runtime] = arith.runtimes;
    assert.equal(runtime!.photons, 6);
    assert.equal(runtime!.state, 'ready');
    assert.ok(runtime!.heapUsed > 0 && runtime!.baseHeap > 0, `heap readings: ${JSON.stringify(runtime)}`);
    // Functions without jobs are listed too, with no runtime yet.
    assert.deepEqual(running.functions.find((f) => f.fn === 'loop')?.runtimes, []);
    const ttl = await bed.redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 3 * HEARTBEAT_MS, `the heartbeat expires by itself (PTTL ${ttl})`);

    await tracker.wait(
      jobs.map((j) => j.id!),
      10_000,
    );
    const after = await until(
      'a heartbeat counting the 6 completed jobs',
      async () => {
        const stats = await read(dispatcher.id);
        const fn = stats?.functions.find((f) => f.fn === 'arith');
        return fn && fn.completed === 6 ? fn : undefined;
      },
      5_000,
    );
    assert.deepEqual([after.photonsInFlight, after.failed], [0, 0]);

    await dispatcher.close();
    assert.equal(await bed.redis.exists(key), 0, 'a closed dispatcher leaves no heartbeat');
  });

  it('lets the heartbeat of a killed dispatcher expire within three periods', async () => {
    const spawned = bed.spawn('dispatcher', { PHOTONS_HEARTBEAT_MS: String(HEARTBEAT_MS) });
    const stats = await bed.serving(spawned.child.pid!);
    const key = photonsKey(bed.prefix, 'dispatcher', stats.id);
    // Expiry is Redis's TTL on the key, which no one but the dispatcher renews.
    const ttl = await bed.redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 3 * HEARTBEAT_MS, `the heartbeat's TTL is ${ttl} ms`);
    spawned.child.kill('SIGKILL');
    await spawned.exited;
    await until('the heartbeat of the killed dispatcher to expire', async () => (await bed.redis.exists(key)) === 0, 60_000);
  });
});
