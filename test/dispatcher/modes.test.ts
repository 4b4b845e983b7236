// The three modes through a dispatcher: each runs jobs right; photon mode keeps every job's module
// state its own under concurrency, shared mode visibly does not, lambda runs one job per runtime.
import { strict as assert } from 'node:assert';
import type { Job } from 'bullmq';
import type { Mode } from '../../photon-worker/types';
import { TestBed, jobsById } from './helpers';

interface CounterOutput {
  n: number;
  /** Jobs the module instance had seen when this one started. */
  handled: number;
  /** Most jobs running in the module instance at once while this one ran. */
  peak: number;
}

/** The most jobs whose active windows (processedOn..finishedOn) overlapped at one instant. */
function maxOverlap(jobs: Job[]): number {
  const edges = jobs.flatMap((j) => [
    { at: j.processedOn!, delta: 1 },
    { at: j.finishedOn!, delta: -1 },
  ]);
  edges.sort((x, y) => x.at - y.at || x.delta - y.delta);
  let now = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (now += edge.delta));
  return peak;
}

describe('dispatcher: modes', function () {
  this.timeout(60_000);
  let bed: TestBed;

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  async function run(mode: Mode, concurrency = 256): Promise<{ outputs: CounterOutput[]; jobs: Job[]; coldStarts: number }> {
    const dispatcher = await bed.dispatcher({ mode, 'dispatcher.concurrency': concurrency });
    const arithTracker = await bed.tracker('arith');
    const counterTracker = await bed.tracker('counter');
    const arith = await bed.queue('arith').addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'arith', data: { a: i, b: i + 1, ms: 5 } })));
    const counter = await bed.queue('counter').addBulk(Array.from({ length: 12 }, (_, n) => ({ name: 'counter', data: { n, ms: 50 } })));
    const arithDone = await arithTracker.wait(
      arith.map((j) => j.id!),
      30_000,
    );
    const counterDone = await counterTracker.wait(
      counter.map((j) => j.id!),
      30_000,
    );
    assert.equal(arithDone.failed.size + counterDone.failed.size, 0, [...arithDone.failed.values(), ...counterDone.failed.values()].join('\n'));
    arith.forEach((job, i) => assert.deepEqual(arithDone.completed.get(job.id!), { sum: 2 * i + 1, product: i * (i + 1), attempt: 1 }));
    const outputs = counter.map((job) => counterDone.completed.get(job.id!) as CounterOutput);
    outputs.forEach((output, n) => assert.equal(output.n, n, 'each job got its own answer'));
    const stats = dispatcher.stats().functions.find((f) => f.fn === 'counter')!;
    assert.equal(stats.mode, mode);
    return {
      outputs,
      jobs: await jobsById(
        bed.queue('counter'),
        counter.map((j) => j.id!),
      ),
      coldStarts: stats.coldStarts,
    };
  }

  it('photon: concurrent jobs in one runtime each see fresh module state', async () => {
    const { outputs, jobs, coldStarts } = await run('photon');
    // Without overlap the isolation below would prove nothing.
    assert.ok(maxOverlap(jobs) > 1, 'the jobs ran concurrently');
    assert.equal(coldStarts, 1, 'packed into one runtime');
    assert.deepEqual(
      outputs.map((o) => [o.handled, o.peak]),
      outputs.map(() => [1, 1]),
    );
  });

  it('shared: concurrent jobs share one module instance, and show it', async () => {
    const { outputs, jobs } = await run('shared');
    assert.ok(maxOverlap(jobs) > 1, 'the jobs ran concurrently');
    assert.ok(Math.max(...outputs.map((o) => o.handled)) > 1, "some job saw another job's count");
    assert.ok(Math.max(...outputs.map((o) => o.peak)) > 1, 'some job saw others running in its module');
  });

  it('lambda: one job per runtime at a time, runtimes reused when warm, up to the concurrency', async () => {
    const { outputs, jobs, coldStarts } = await run('lambda', 4);
    assert.ok(maxOverlap(jobs) > 1, 'the jobs ran concurrently, in several runtimes');
    assert.deepEqual(
      outputs.map((o) => o.peak),
      outputs.map(() => 1),
      'never two jobs in one runtime at once',
    );
    assert.ok(coldStarts <= 4, `at most 4 runtimes, started ${coldStarts}`);
    // 12 jobs in at most 4 runtimes: warm runtimes took further jobs, and their module state shows it.
    assert.ok(Math.max(...outputs.map((o) => o.handled)) > 1, 'a warm runtime was reused');
  });
});
