// Schedules against a real Redis and a real dispatcher: firings are ordinary jobs of the function,
// pausing stops them, removing ends them, and a dispatcher restart loses none.
import { strict as assert } from 'node:assert';
import { Queue } from 'bullmq';
import pino from 'pino';
import { Dispatcher } from '../../dispatcher/dispatcher';
import { ErrorCodes } from '../../errors';
import { until } from '../dispatcher/helpers';
import { rejectsWith, startStack, REDIS_URL, type Stack } from './helpers';

describe('schedules', function () {
  let stack: Stack;
  let echo: Queue;
  /** The dispatcher started by a restart test, once the stack's own is closed. */
  let restarted: Dispatcher | undefined;
  const current = (): Dispatcher => restarted ?? stack.dispatcher;
  before(async () => {
    stack = await startStack();
    echo = new Queue('echo', { connection: { url: REDIS_URL }, prefix: stack.prefix });
  });
  after(async () => {
    await restarted?.close();
    await echo?.close();
    await stack?.stop();
  });

  /** The completed firings of a schedule, as any BullMQ user would find them. */
  async function firings(id: string): Promise<Array<{ data: unknown; returnvalue: unknown }>> {
    const jobs = await echo.getJobs(['completed'], 0, -1);
    return jobs.filter((job) => job.id!.startsWith(`repeat:${id}:`)).map((job) => ({ data: job.data as unknown, returnvalue: job.returnvalue as unknown }));
  }

  it('fires every 300 ms as ordinary jobs of the function, and shows its next and last run', async () => {
    const set = await stack.client.schedule('tick', 'echo', { every: 300 }, { n: 7 });
    assert.equal(set.fn, 'echo');
    assert.equal(set.every, 300);
    assert.equal(set.paused, false);
    const done = await until('three firings', async () => ((await firings('tick')).length >= 3 ? firings('tick') : undefined), 20_000, 100);
    for (const firing of done) assert.deepEqual(firing, { data: { n: 7 }, returnvalue: { n: 7 } });
    const [info] = (await stack.client.schedules()).filter((s) => s.id === 'tick');
    assert.ok(info, 'listed');
    assert.ok(info.runs >= 3, `runs ${info.runs}`);
    assert.ok(info.lastRunAt !== null && info.lastRunAt <= Date.now(), `lastRunAt ${info.lastRunAt}`);
    assert.ok(info.nextRunAt !== null && info.nextRunAt > info.lastRunAt, `nextRunAt ${info.nextRunAt}`);
    await stack.client.unschedule('tick');
  });

  it('pauses, resumes and removes a schedule; ids are one namespace across functions', async () => {
    await stack.client.schedule('pausable', 'echo', { every: 200 }, { n: 1 });
    await until('a first firing', async () => ((await firings('pausable')).length >= 1 ? true : undefined), 20_000, 100);
    const paused = await stack.client.pauseSchedule('pausable');
    assert.equal(paused.paused, true);
    assert.equal(paused.nextRunAt, null);
    assert.ok(paused.runs >= 1);
    const before = (await firings('pausable')).length;
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal((await firings('pausable')).length, before, 'no firing while paused');
    assert.equal((await echo.getJobSchedulers()).length, 0, 'no BullMQ scheduler while paused');
    const resumed = await stack.client.resumeSchedule('pausable');
    assert.equal(resumed.paused, false);
    await until('a firing after resume', async () => ((await firings('pausable')).length > before ? true : undefined), 20_000, 100);
    assert.ok((await stack.client.getSchedule('pausable')).runs > paused.runs);

    // The same id for another function moves the schedule there.
    const moved = await stack.client.schedule('pausable', 'double', { cron: '0 0 1 1 *', tz: 'Europe/Paris' });
    assert.equal(moved.fn, 'double');
    assert.equal(moved.cron, '0 0 1 1 *');
    assert.equal((await echo.getJobSchedulers()).length, 0, "gone from echo's queue");
    assert.deepEqual(
      (await stack.client.schedules()).map((s) => [s.id, s.fn]),
      [['pausable', 'double']],
    );
    await stack.client.unschedule('pausable');
    assert.deepEqual(await stack.client.schedules(), []);
    await rejectsWith(stack.client.unschedule('pausable'), ErrorCodes.SCHEDULE_NOT_FOUND, /No schedule "pausable"/);
  });

  it('keeps firing across a dispatcher restart', async () => {
    await stack.client.schedule('survivor', 'echo', { every: 300 }, { n: 3 });
    await until('a first firing', async () => ((await firings('survivor')).length >= 1 ? true : undefined), 20_000, 100);
    await current().close();
    const stopped = (await firings('survivor')).length;
    restarted = new Dispatcher(stack.config, pino({ level: 'warn' }));
    await restarted.start();
    await until('two firings after the restart', async () => ((await firings('survivor')).length >= stopped + 2 ? true : undefined), 20_000, 100);
    await stack.client.unschedule('survivor');
  });

  it("follows BullMQ's timing: a firing due while the last still runs starts anyway; missed ones run once", async () => {
    const jobsOf = async (id: string) => (await echo.getJobs(['completed', 'active'], 0, -1)).filter((job) => job.id!.startsWith(`repeat:${id}:`));
    await stack.client.schedule('overlap', 'echo', { every: 300 }, { ms: 1_000 });
    const overlapping = await until(
      'two firings running at once',
      async () => {
        const jobs = (await jobsOf('overlap')).filter((job) => job.processedOn);
        return jobs.some((a) => jobs.some((b) => a !== b && a.processedOn! < b.processedOn! && (a.finishedOn ?? Infinity) > b.processedOn!)) ? true : undefined;
      },
      20_000,
      100,
    );
    assert.ok(overlapping);
    await stack.client.unschedule('overlap');

    // A firing's job id ends with the time of its slot: catch-ups for missed slots would have slots
    // from the time no dispatcher ran.
    await stack.client.schedule('missed', 'echo', { every: 1_000 }, { n: 9 });
    await until('a first firing', async () => ((await firings('missed')).length >= 1 ? true : undefined), 20_000, 100);
    await current().close();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // three slots pass with nothing running
    const restartedAt = Date.now();
    restarted = new Dispatcher(stack.config, pino({ level: 'warn' }));
    await restarted.start();
    const slots = async () =>
      (await echo.getJobs(['completed', 'active'], 0, -1)).filter((job) => job.id!.startsWith('repeat:missed:')).map((job) => Number(job.id!.split(':').pop()));
    await until('a firing of a slot after the restart', async () => ((await slots()).some((slot) => slot > restartedAt) ? true : undefined), 20_000, 100);
    await stack.client.unschedule('missed');
    const missed = (await slots()).filter((slot) => slot >= stoppedAt && slot < restartedAt);
    assert.ok(missed.length <= 1, `firings for ${missed.length} slots of the time nothing ran`);
  });

  it('refuses bad ids, timings, inputs and functions before anything reaches Redis', async () => {
    const { client } = stack;
    await rejectsWith(client.schedule('bad:id', 'echo', { every: 1000 }), ErrorCodes.INVALID_SCHEDULE, /not a valid schedule id/);
    await rejectsWith(client.schedule('x', 'echo', { every: 5 }), ErrorCodes.INVALID_SCHEDULE, /every must be an integer number of ms from 100/);
    await rejectsWith(client.schedule('x', 'echo', { cron: 'every day' }), ErrorCodes.INVALID_SCHEDULE, /cron expression "every day" is invalid/);
    await rejectsWith(client.schedule('x', 'echo', { cron: '61 * * * *' }), ErrorCodes.INVALID_SCHEDULE, /is invalid/);
    await rejectsWith(client.schedule('x', 'echo', { cron: '* * * * *', tz: 'Mars/Olympus' }), ErrorCodes.INVALID_SCHEDULE, /IANA time zone/);
    await rejectsWith(client.schedule('x', 'echo', { every: 1000, cron: '* * * * *' } as never), ErrorCodes.INVALID_SCHEDULE, /not both/);
    await rejectsWith(client.schedule('x', 'echo', { every: 1000 }, { n: NaN }), ErrorCodes.INPUT_NOT_JSON, /NaN/);
    await rejectsWith(client.schedule('x', 'nope', { every: 1000 }), ErrorCodes.UNKNOWN_FUNCTION, /nope/);
    await rejectsWith(client.pauseSchedule('missing'), ErrorCodes.SCHEDULE_NOT_FOUND, /No schedule "missing"/);
    assert.deepEqual(await client.schedules(), []);
  });
});
