// Jobs added with plain BullMQ, and BullMQ's attempts as a producer would use them: retried
// transient failures, UnrecoverableError not retried, the function's own config.attempts applied
// only to jobs that name no attempts of their own.
import { strict as assert } from 'node:assert';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TestBed, jobsById } from './helpers';

describe('dispatcher: plain BullMQ jobs and retries', function () {
  this.timeout(30_000);
  let bed: TestBed;

  before(async () => {
    bed = new TestBed();
    await bed.dispatcher();
  });

  after(() => bed.cleanup());

  it('runs a job added with nothing but BullMQ and ioredis', async () => {
    const tracker = await bed.tracker('arith');
    // A producer that knows nothing of Photons: its own connection, the queue named after the function.
    const connection = new Redis({ ...bed.connection });
    const queue = new Queue('arith', { connection, prefix: bed.prefix });
    try {
      const job = await queue.add('whatever-name', { a: 6, b: 7 });
      const { completed } = await tracker.wait([job.id!], 15_000);
      assert.deepEqual(completed.get(job.id!), { sum: 13, product: 42, attempt: 1 });
      assert.equal(await queue.getJobState(job.id!), 'completed');
    } finally {
      await queue.close();
      await connection.quit();
    }
  });

  it('retries a job with attempts: 3 that fails twice, and it ends completed on attempt 3', async () => {
    const tracker = await bed.tracker('flaky');
    const job = await bed.queue('flaky').add('flaky', { failUntil: 3 }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const { completed, failed } = await tracker.wait([job.id!], 15_000);
    assert.equal(failed.get(job.id!), undefined);
    assert.deepEqual(completed.get(job.id!), { attempt: 3 });
    const [stored] = await jobsById(bed.queue('flaky'), [job.id!]);
    assert.equal(stored!.attemptsMade, 3);
    assert.equal(await bed.queue('flaky').getJobState(job.id!), 'completed');
  });

  it("fails a job with attempts: 3 that runs out of them, with the function's message", async () => {
    const tracker = await bed.tracker('flaky');
    const job = await bed.queue('flaky').add('flaky', { failUntil: 9 }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const { failed } = await tracker.wait([job.id!], 15_000);
    assert.equal(failed.get(job.id!), 'PHOTONS_ERR_HANDLER: flaky: transient failure on attempt 3');
    const [stored] = await jobsById(bed.queue('flaky'), [job.id!]);
    assert.equal(stored!.attemptsMade, 3);
  });

  it('does not retry an UnrecoverableError, whatever the attempts', async () => {
    const tracker = await bed.tracker('flaky');
    const job = await bed.queue('flaky').add('flaky', { fatal: true }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const { failed } = await tracker.wait([job.id!], 15_000);
    assert.equal(failed.get(job.id!), 'PHOTONS_ERR_HANDLER: flaky: fatal on attempt 1');
    const [stored] = await jobsById(bed.queue('flaky'), [job.id!]);
    assert.equal(stored!.attemptsMade, 1);
  });

  it("applies the function's config.attempts (2, backoff 10 ms) to a job without attempts", async () => {
    const tracker = await bed.tracker('retrying');
    const jobs = await bed.queue('retrying').addBulk([
      // Succeeds on its second attempt: only the function's config gives it one.
      { name: 'retrying', data: { failUntil: 2 } },
      // Never succeeds: fails after the function's 2 attempts, not BullMQ's default of 1.
      { name: 'retrying', data: { failUntil: 9 } },
      // Names its own attempts: the job's option wins over the function's config.
      { name: 'retrying', data: { failUntil: 2 }, opts: { attempts: 1 } },
    ]);
    const ids = jobs.map((j) => j.id!);
    const { completed, failed } = await tracker.wait(ids, 15_000);
    assert.deepEqual(completed.get(ids[0]!), { attempt: 2 });
    assert.equal(failed.get(ids[1]!), 'PHOTONS_ERR_HANDLER: retrying: transient failure on attempt 2');
    assert.equal(failed.get(ids[2]!), 'PHOTONS_ERR_HANDLER: retrying: transient failure on attempt 1');
    const stored = await jobsById(bed.queue('retrying'), ids);
    assert.deepEqual(
      stored.map((j) => j.attemptsMade),
      [2, 2, 1],
    );
  });
});
