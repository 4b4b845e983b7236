// Jobs that take their runtime down (an endless loop, an exhausted heap) among innocent ones: the
// innocents complete with their own results and no attempt lost, the culprit fails as poison, and
// the function keeps serving on a new runtime.
import { strict as assert } from 'node:assert';
import { TestBed, jobsById } from './helpers';

describe('dispatcher: jobs that kill their runtime', function () {
  this.timeout(60_000);
  let bed: TestBed;

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  /** Adds `innocents` jobs with the culprit in their midst; returns the ids, culprit first. */
  async function addWithCulprit(fn: string, innocents: number, culprit: Record<string, unknown>): Promise<{ culprit: string; others: string[] }> {
    const data = Array.from({ length: innocents }, (_, n) => ({ n }) as Record<string, unknown>);
    data.splice(innocents / 2, 0, { n: -1, ...culprit });
    const jobs = await bed.queue(fn).addBulk(data.map((d) => ({ name: fn, data: d })));
    const culpritJob = jobs.find((j) => (j.data as { n: number }).n === -1)!;
    return { culprit: culpritJob.id!, others: jobs.filter((j) => j !== culpritJob).map((j) => j.id!) };
  }

  it('an endless loop among 50 jobs: the 50 complete, the loop fails as poison, a new runtime serves on', async () => {
    const dispatcher = await bed.dispatcher();
    const tracker = await bed.tracker('loop');
    const { culprit, others } = await addWithCulprit('loop', 50, { loop: true });
    const { completed, failed } = await tracker.wait([culprit, ...others], 45_000);

    assert.match(failed.get(culprit) ?? 'completed', /^PHOTONS_ERR_POISON: /);
    assert.match(failed.get(culprit)!, /event loop was blocked/);
    assert.deepEqual(
      others.filter((id) => failed.has(id)),
      [],
      'no innocent job failed',
    );
    const innocents = await jobsById(bed.queue('loop'), others);
    for (const job of innocents) {
      const { n } = job.data as { n: number };
      assert.deepEqual(completed.get(job.id!), { double: 2 * n });
      // Handed back at the runtime's death without spending an attempt.
      assert.equal(job.attemptsMade, 1, `job ${job.id} (n=${n}) spent ${job.attemptsMade} attempts`);
    }

    // Jobs behind the loop in the runtime's timer order were there when it died, and came back.
    assert.ok(
      innocents.some((j) => j.attemptsStarted >= 2),
      'some innocent job was handed back at the runtime death',
    );

    const stats = dispatcher.stats().functions.find((f) => f.fn === 'loop')!;
    assert.ok(stats.runtimeDeaths >= 2, `the culprit killed two runtimes, stats say ${stats.runtimeDeaths}`);
    assert.ok(stats.coldStarts > stats.runtimeDeaths, 'the dead runtimes were replaced');
    assert.equal(stats.completed, 50);

    // The function keeps serving.
    const after = await bed.queue('loop').add('loop', { n: 21 });
    const again = await tracker.wait([after.id!], 15_000);
    assert.deepEqual(again.completed.get(after.id!), { double: 42 });
  });

  it('a job that exhausts its heap (config.memoryMb 32): it fails as poison, the others complete', async () => {
    const dispatcher = await bed.dispatcher();
    const tracker = await bed.tracker('oom');
    const { culprit, others } = await addWithCulprit('oom', 20, { grow: true });
    const { completed, failed } = await tracker.wait([culprit, ...others], 45_000);

    assert.match(failed.get(culprit) ?? 'completed', /^PHOTONS_ERR_POISON: /);
    assert.match(failed.get(culprit)!, /ran out of heap \(limit 32 MB\)/);
    assert.deepEqual(
      others.filter((id) => failed.has(id)),
      [],
      'no innocent job failed',
    );
    const innocents = await jobsById(bed.queue('oom'), others);
    for (const job of innocents) {
      const { n } = job.data as { n: number };
      assert.deepEqual(completed.get(job.id!), { square: n * n });
      assert.equal(job.attemptsMade, 1, `job ${job.id} (n=${n}) spent ${job.attemptsMade} attempts`);
    }
    assert.ok(
      innocents.some((j) => j.attemptsStarted >= 2),
      'some innocent job was handed back at the runtime death',
    );
    const stats = dispatcher.stats().functions.find((f) => f.fn === 'oom')!;
    assert.ok(stats.runtimeDeaths >= 2, `the culprit killed two runtimes, stats say ${stats.runtimeDeaths}`);
  });
});
