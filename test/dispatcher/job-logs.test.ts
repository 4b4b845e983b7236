// A job's ctx.log and console lines in its BullMQ job log, where a BullMQ user looks for them
// (queue.getJobLogs, bull-board's Logs tab): every attempt's lines, at info and above by default,
// the function's own level, the global switch, and the job's keepLogs bound.
import { strict as assert } from 'node:assert';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CHUNK_JOB_NAME } from '../../contract/wire';
import { TestBed } from './helpers';

describe('dispatcher: job logs in BullMQ', function () {
  this.timeout(30_000);
  let bed: TestBed;

  afterEach(() => bed.cleanup());

  it('shows the lines of all three attempts of a failing job to a plain BullMQ queue.getJobLogs', async () => {
    bed = new TestBed();
    await bed.dispatcher();
    const tracker = await bed.tracker('chatty');
    const job = await bed.queue('chatty').add('chatty', { failUntil: 9 }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const { failed } = await tracker.wait([job.id!], 20_000);
    assert.equal(failed.get(job.id!), 'PHOTONS_ERR_HANDLER: chatty: failure on attempt 3');
    // A producer that knows nothing of Photons reads the log.
    const connection = new Redis({ ...bed.connection });
    const queue = new Queue('chatty', { connection, prefix: bed.prefix });
    try {
      const { logs, count } = await queue.getJobLogs(job.id!);
      assert.equal(count, 9, logs.join('\n'));
      for (const attempt of [1, 2, 3]) {
        const mine = logs.filter((line) => line.includes(`[attempt ${attempt}]`));
        assert.equal(mine.length, 3, logs.join('\n'));
        assert.match(mine[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z INFO \\[attempt ${attempt}\\] chatty: starting attempt ${attempt}$`));
        assert.match(mine[1]!, new RegExp(`INFO \\[attempt ${attempt}\\] chatty: console line on attempt ${attempt}$`));
        assert.match(mine[2]!, new RegExp(`WARN \\[attempt ${attempt}\\] chatty: a warning with fields \\{"step":"check","attempt":${attempt}\\}$`));
      }
      assert.ok(!logs.some((line) => line.includes('debug line')), 'debug lines stay out of the job log by default');
    } finally {
      await queue.close();
      await connection.quit();
    }
  });

  it("follows the function's config.jobLogLevel (warn: only warn and above), child loggers of ctx.log included", async () => {
    bed = new TestBed();
    await bed.dispatcher();
    const tracker = await bed.tracker('chatty-warn');
    const job = await bed.queue('chatty-warn').add('chatty-warn', {});
    await tracker.wait([job.id!], 20_000);
    const { logs } = await bed.queue('chatty-warn').getJobLogs(job.id!);
    assert.equal(logs.length, 2, logs.join('\n'));
    assert.match(logs[0]!, /ERROR \[attempt 1\] chatty-warn: an error line from the console$/);
    assert.match(logs[1]!, /WARN \[attempt 1\] chatty-warn: a warning from a child logger$/);
  });

  it('writes no job log when log.jobLevel is off', async () => {
    bed = new TestBed();
    await bed.dispatcher({ 'log.jobLevel': 'off' });
    const tracker = await bed.tracker('chatty');
    const job = await bed.queue('chatty').add('chatty', {});
    const { completed } = await tracker.wait([job.id!], 20_000);
    assert.deepEqual(completed.get(job.id!), { attempt: 1 });
    assert.deepEqual(await bed.queue('chatty').getJobLogs(job.id!), { logs: [], count: 0 });
  });

  it("keeps the latest lines only, as many as the job's keepLogs", async () => {
    bed = new TestBed();
    await bed.dispatcher();
    const tracker = await bed.tracker('chatty');
    const job = await bed.queue('chatty').add('chatty', { failUntil: 2 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 }, keepLogs: 2 });
    await tracker.wait([job.id!], 20_000);
    const { logs, count } = await bed.queue('chatty').getJobLogs(job.id!);
    assert.equal(count, 2);
    assert.match(logs[0]!, /INFO \[attempt 2\] chatty: console line on attempt 2$/);
    assert.match(logs[1]!, /WARN \[attempt 2\] chatty: a warning with fields/);
  });

  it("puts the lines of a chunk job's items in the chunk's log, each naming its item", async () => {
    bed = new TestBed();
    await bed.dispatcher();
    const tracker = await bed.tracker('chatty');
    const job = await bed.queue('chatty').add(CHUNK_JOB_NAME, { items: [{}, {}] });
    await tracker.wait([job.id!], 20_000);
    const { logs } = await bed.queue('chatty').getJobLogs(job.id!);
    assert.equal(logs.length, 6, logs.join('\n'));
    for (const item of [0, 1]) {
      const mine = logs.filter((line) => line.startsWith(`item ${item}: `));
      assert.equal(mine.length, 3, logs.join('\n'));
      assert.match(mine[0]!, /INFO \[attempt 1\] chatty: starting attempt 1$/);
    }
  });

  it('lets a job removed on completion take its log with it', async () => {
    bed = new TestBed();
    await bed.dispatcher();
    const tracker = await bed.tracker('chatty');
    const job = await bed.queue('chatty').add('chatty', {}, { removeOnComplete: true });
    await tracker.wait([job.id!], 20_000);
    assert.deepEqual(await bed.scan(`${bed.prefix}:chatty:${job.id}*`), []);
  });
});
