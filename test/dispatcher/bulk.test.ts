// A 5,000-job run through one dispatcher: every job completes, once, with its own right answer
// (results read back from Redis, not only counted).
import { strict as assert } from 'node:assert';
import { Queue } from 'bullmq';
import { TestBed } from './helpers';

const JOBS = 5_000;

describe('dispatcher: a 5,000-job run', function () {
  this.timeout(120_000);
  let bed: TestBed;

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  it('completes every job with its own right result', async () => {
    const tracker = await bed.tracker('arith');
    // 5,000 jobs make about 20,000 queue events: more than the default stream length, which a
    // busy machine could let the listener fall behind.
    const queue = new Queue('arith', { connection: bed.connection, prefix: bed.prefix, streams: { events: { maxLen: 50_000 } } });
    try {
      const dispatcher = await bed.dispatcher();
      const ids: string[] = [];
      for (let start = 0; start < JOBS; start += 1_000) {
        const jobs = await queue.addBulk(Array.from({ length: 1_000 }, (_, k) => ({ name: 'arith', data: { a: start + k, b: 7 } })));
        ids.push(...jobs.map((j) => j.id!));
      }
      const { failed } = await tracker.wait(ids, 100_000);
      assert.equal(failed.size, 0, [...failed.values()].slice(0, 3).join('\n'));

      const counts = await queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed');
      assert.deepEqual(counts, { completed: JOBS, failed: 0, active: 0, waiting: 0, paused: 0, delayed: 0 });
      const stored = await queue.getJobs(['completed'], 0, JOBS - 1);
      assert.equal(stored.length, JOBS);
      const byA = new Map<number, unknown>();
      for (const job of stored) {
        const { a, b } = job.data as { a: number; b: number };
        assert.equal(job.attemptsMade, 1, `job ${job.id} took ${job.attemptsMade} attempts`);
        assert.deepEqual(job.returnvalue, { sum: a + b, product: a * b, attempt: 1 }, `job ${job.id} (a=${a})`);
        byA.set(a, job.returnvalue);
      }
      // Every input is there once: no job lost, none run in another's place.
      assert.equal(byA.size, JOBS);
      const [stats] = dispatcher.stats().functions.filter((f) => f.fn === 'arith');
      assert.equal(stats!.completed, JOBS);
      assert.equal(stats!.failed, 0);
    } finally {
      await queue.close();
    }
  });
});
