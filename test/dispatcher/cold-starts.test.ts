// Cold starts of many functions at once (dispatcher/spare-threads.ts): threads boot a few at a time,
// in the order they were asked for, so the first runtimes are ready early instead of every one of
// them late; a runtime retired while it waits for its thread leaves the line. And the idle budget
// (dispatcher/idle-budget.ts): idle runtimes beyond it are retired long before keep-alive ends.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import pino from 'pino';
import { bundleFunction, type FunctionBundle } from '../../photon-worker/bundle';
import { IDLE_GRACE_MS, overBudget, THREAD_OVERHEAD_BYTES, type IdleRuntime } from '../../dispatcher/idle-budget';
import { Runtime } from '../../dispatcher/runtime';
import type { JobOutcome } from '../../dispatcher/waiting';
import { SpareThreads } from '../../dispatcher/spare-threads';
import { FIXTURES_DIR, REPO_ROOT, TestBed, until } from './helpers';

const ARITH = path.join(FIXTURES_DIR, 'arith.ts');

interface Started {
  runtime: Runtime;
  ready: Promise<number>;
  exited: Promise<boolean>;
}

function startRuntime(bundle: FunctionBundle, id: number, spares: SpareThreads, readyOrder: number[]): Started {
  let ready!: (n: number) => void;
  let exited!: (died: boolean) => void;
  const started: Started = {
    runtime: undefined as unknown as Runtime,
    ready: new Promise<number>((resolve) => (ready = resolve)),
    exited: new Promise<boolean>((resolve) => (exited = resolve)),
  };
  started.runtime = new Runtime({
    id,
    bundle,
    mode: 'photon',
    memoryMb: 128,
    watchdogMs: 10_000,
    startTimeoutMs: 60_000,
    defaultTimeoutMs: 60_000,
    logLevel: 'silent',
    logger: pino({ level: 'silent' }),
    onProgress: () => undefined,
    onReady: () => {
      readyOrder.push(id);
      ready(id);
    },
    onAnswers: () => undefined,
    onExit: (_runtime, reason) => exited(reason !== null),
    spares,
  });
  return started;
}

describe('dispatcher: cold starts of many runtimes at once', function () {
  this.timeout(120_000);

  it('boots at most bootsAtOnce threads at a time, in the order asked, and every runtime answers its job', async () => {
    const bundle = await bundleFunction(ARITH);
    // Slots held until the function has loaded, however slow a loaded machine makes the boot.
    const spares = new SpareThreads(0, 128, 2, 600_000);
    const readyOrder: number[] = [];
    const started = Array.from({ length: 8 }, (_, i) => startRuntime(bundle, i + 1, spares, readyOrder));
    let mostBooting = 0;
    const sampler = setInterval(() => {
      const booting = started.filter((s) => s.runtime.state === 'starting' && s.runtime.threadId !== 0).length;
      mostBooting = Math.max(mostBooting, booting);
    }, 2);
    try {
      assert.equal(spares.queued, 6, 'two threads boot, six runtimes wait for a slot');
      await Promise.all(started.map((s) => s.ready));
      const answers = await Promise.all(
        started.map(
          (s, i) => new Promise<JobOutcome[]>((resolve) => s.runtime.run([{ job: { jobId: `j${i}`, inputs: [{ a: i, b: 1 }], attempt: 1 }, resolve }])),
        ),
      );
      answers.forEach(([outcome], i) => assert.deepEqual(outcome, { kind: 'done', valueJson: JSON.stringify({ sum: i + 1, product: i, attempt: 1 }) }));
    } finally {
      clearInterval(sampler);
      await Promise.all(started.map((s) => s.runtime.retire()));
      await spares.close();
    }
    assert.ok(mostBooting <= 2, `at most 2 threads booting at once, saw ${mostBooting}`);
    assert.ok(mostBooting >= 1);
    // Two boot at a time: runtime n is ready no later than those asked for two places after it.
    readyOrder.forEach((id, position) => assert.ok(Math.abs(id - 1 - position) <= 1, `ready order ${readyOrder.join(' ')}`));
  });

  it('a function whose top level awaits for ever does not hold up the cold starts behind it', async () => {
    const never = await bundleFunction(path.join(REPO_ROOT, 'test', 'fixtures', 'modules', 'tla-never.ts'));
    const bundle = await bundleFunction(ARITH);
    const spares = new SpareThreads(0, 128, 1);
    const readyOrder: number[] = [];
    const started = [startRuntime(never, 1, spares, readyOrder), startRuntime(bundle, 2, spares, readyOrder)];
    try {
      assert.equal(spares.queued, 1, 'one boot slot: the second waits');
      assert.equal(await started[1]!.ready, 2);
      assert.equal(started[0]!.runtime.state, 'starting', 'the first is still in its top level');
    } finally {
      await Promise.all(started.map((s) => s.runtime.retire()));
      await spares.close();
    }
  });

  it('a runtime retired while it waits for a thread leaves the line; the others still start', async () => {
    const bundle = await bundleFunction(ARITH);
    const spares = new SpareThreads(0, 128, 1);
    const readyOrder: number[] = [];
    const started = Array.from({ length: 3 }, (_, i) => startRuntime(bundle, i + 1, spares, readyOrder));
    try {
      assert.equal(started[2]!.runtime.threadId, 0, 'the third waits for a thread');
      await started[2]!.runtime.retire();
      assert.equal(await started[2]!.exited, false, 'retired, not died');
      assert.equal(started[2]!.runtime.state, 'dead');
      assert.equal(spares.queued, 1);
      await Promise.all([started[0]!.ready, started[1]!.ready]);
      assert.deepEqual(readyOrder, [1, 2]);
      assert.equal(spares.queued, 0);
    } finally {
      await Promise.all(started.map((s) => s.runtime.retire()));
      await spares.close();
    }
  });
});

describe('dispatcher: the idle budget', function () {
  this.timeout(60_000);

  const idle = (idleSince: number, heapUsed: number): IdleRuntime & { idleSince: number } => ({
    state: 'ready',
    inFlight: 0,
    idleSince,
    heapUsed,
    retire: () => Promise.resolve(),
  });

  it('keeps the most recently used within the budget and retires the rest once past the grace', () => {
    const now = 1_000_000;
    const mb = 2 ** 20;
    const recent = idle(now - 1_000, 3 * mb);
    const older = idle(now - 20_000, 3 * mb);
    const oldest = idle(now - 60_000, 3 * mb);
    const fresh = idle(now - IDLE_GRACE_MS / 2, 3 * mb);
    const oneFits = 3 * mb + THREAD_OVERHEAD_BYTES;
    assert.deepEqual(overBudget([oldest, recent, older], 2 * oneFits, now), [oldest]);
    assert.deepEqual(overBudget([oldest, recent, older], oneFits, now), [older, oldest]);
    // Idle for less than the grace: between two jobs, never retired by the budget.
    assert.deepEqual(overBudget([fresh, recent], 0, now), []);
    assert.deepEqual(overBudget([oldest, older], 0, now), [older, oldest]);
  });

  describe('in a dispatcher', () => {
    let bed: TestBed;
    beforeEach(() => (bed = new TestBed()));
    afterEach(() => bed.cleanup());

    it('retires an idle runtime beyond the budget within seconds, though keep-alive is ten minutes', async () => {
      const dispatcher = await bed.dispatcher({ 'runtime.idleMemoryMb': 0, 'runtime.keepAliveMs': 600_000 });
      const tracker = await bed.tracker('arith');
      const job = await bed.queue('arith').add('arith', { a: 2, b: 3 });
      const finished = await tracker.wait([job.id!], 30_000);
      assert.deepEqual(finished.completed.get(job.id!), { sum: 5, product: 6, attempt: 1 });
      const runtimes = () => dispatcher.stats().functions.find((f) => f.fn === 'arith')!.runtimes.length;
      assert.equal(runtimes(), 1, 'warm right after its job');
      const retiredAfter = Date.now();
      await until('the idle runtime to be retired', () => runtimes() === 0, IDLE_GRACE_MS + 10_000, 100);
      assert.ok(Date.now() - retiredAfter >= IDLE_GRACE_MS - 2_000, 'not before the grace');
      // The next job starts a runtime again and is answered.
      const again = await bed.queue('arith').add('arith', { a: 1, b: 1 });
      assert.deepEqual((await tracker.wait([again.id!], 30_000)).completed.get(again.id!), { sum: 2, product: 1, attempt: 1 });
    });

    it('at the default budget a runtime stays warm past the grace', async () => {
      const dispatcher = await bed.dispatcher();
      const tracker = await bed.tracker('arith');
      const job = await bed.queue('arith').add('arith', { a: 2, b: 3 });
      await tracker.wait([job.id!], 30_000);
      await new Promise((resolve) => setTimeout(resolve, IDLE_GRACE_MS + 2_000));
      assert.equal(dispatcher.stats().functions.find((f) => f.fn === 'arith')!.runtimes.length, 1);
    });
  });
});
