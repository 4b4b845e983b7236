// Fetching that follows use and memory (ARCHITECTURE.md, "Scheduling / fetching"): a dispatcher
// serving many functions holds queue workers, and their Redis connections, only for those with
// jobs; an idle function's jobs, delayed jobs and a dead dispatcher's jobs still run; a full memory
// budget leaves jobs waiting in Redis and says so.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'bullmq';
import { readFleet } from '../../contract/fleet';
import { render } from '../../cli/status';
import { TestBed, until } from './helpers';

const FUNCTIONS = 30;
const CHECK_INTERVAL_MS = 200;

/** A folder of `count` small functions, fn-0 … fn-<count-1>, each adding its inputs after an optional wait. */
function functionsFolder(count: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'photons-fetching-'));
  const source = `export default async function (input) {
  if (input.ms) await new Promise((resolve) => setTimeout(resolve, input.ms));
  return { sum: input.a + input.b };
}
`;
  for (let i = 0; i < count; i++) writeFileSync(path.join(dir, `fn-${i}.js`), source);
  return dir;
}

describe('dispatcher: queue workers on demand and a memory budget', function () {
  this.timeout(90_000);
  let bed: TestBed;
  let dir: string;

  before(() => {
    dir = functionsFolder(FUNCTIONS);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  /** Connections to our Redis now, every client included (CLIENT LIST has a line per connection). */
  async function connections(): Promise<number> {
    const list = (await bed.redis.client('LIST')) as string;
    return list.trim().split('\n').length;
  }

  const start = (overrides: Record<string, unknown> = {}) =>
    bed.dispatcher({ functionsDir: dir, 'dispatcher.checkIntervalMs': CHECK_INTERVAL_MS, 'runtime.keepAliveMs': 2_000, ...overrides });

  it(`serves ${FUNCTIONS} idle functions with far fewer than two connections each, and adds two per function with jobs`, async () => {
    // The test's own clients first, so that the count shows the dispatcher's alone.
    const tracker = await bed.tracker('fn-3');
    await bed.queue('fn-3').waitUntilReady();
    const before = await connections();
    const dispatcher = await start();
    const idle = (await connections()) - before;
    assert.ok(idle <= 6, `${FUNCTIONS} idle functions hold ${idle} connections (two per function would be ${2 * FUNCTIONS})`);
    assert.equal(dispatcher.stats().fetching, 0);

    const job = await bed.queue('fn-3').add('job', { a: 1, b: 2 });
    const { completed } = await tracker.wait([job.id!], 20_000);
    assert.deepEqual(completed.get(job.id!), { sum: 3 });
    assert.equal(dispatcher.stats().fetching, 1);
    const busy = (await connections()) - before;
    assert.ok(busy <= idle + 2, `one function with jobs: ${busy} connections, ${idle} when idle`);

    // Idle past keep-alive (and two stalled intervals), its queue worker stops and its connections close.
    await until('the idle queue worker to stop', () => dispatcher.stats().fetching === 0, 20_000);
    await until('its connections to close', async () => (await connections()) - before <= idle, 10_000);
  });

  it("starts an idle function's job within the check interval plus its cold start", async () => {
    const dispatcher = await start();
    await new Promise((resolve) => setTimeout(resolve, 3 * CHECK_INTERVAL_MS));
    assert.equal(dispatcher.stats().fetching, 0, 'no function had jobs: no queue worker runs');
    const tracker = await bed.tracker('fn-7');
    const job = await bed.queue('fn-7').add('job', { a: 20, b: 22 });
    await tracker.wait([job.id!], 20_000);
    const done = (await bed.queue('fn-7').getJob(job.id!))!;
    assert.equal(await done.getState(), 'completed');
    assert.deepEqual(done.returnvalue, { sum: 42 });
    // processedOn is when a queue worker took it: at most one check interval after it was added,
    // plus the round trips of starting a worker (generous for a loaded machine).
    const waitedMs = done.processedOn! - done.timestamp;
    assert.ok(waitedMs < CHECK_INTERVAL_MS + 2_000, `the job waited ${waitedMs} ms to be taken`);
  });

  it('runs a delayed job of an idle function when it is due', async () => {
    const dispatcher = await start();
    const tracker = await bed.tracker('fn-11');
    const job = await bed.queue('fn-11').add('job', { a: 5, b: 6 }, { delay: 1_500 });
    await new Promise((resolve) => setTimeout(resolve, 3 * CHECK_INTERVAL_MS));
    assert.equal(await job.getState(), 'delayed');
    assert.equal(dispatcher.stats().fetching, 0, 'a job not yet due starts no queue worker');
    const { completed } = await tracker.wait([job.id!], 20_000);
    assert.deepEqual(completed.get(job.id!), { sum: 11 });
    const done = (await bed.queue('fn-11').getJob(job.id!))!;
    assert.ok(done.processedOn! >= done.timestamp + 1_500, 'not before it was due');
  });

  it("takes back an idle function's job whose dispatcher died holding it", async () => {
    // A consumer that takes the job and dies: its lock (1 s) lapses and nobody renews it.
    const queue = bed.queue('fn-19');
    const job = await queue.add('job', { a: 19, b: 23 });
    const doomed = new Worker(queue.name, null, { connection: bed.connection, prefix: bed.prefix, lockDuration: 1_000 });
    const taken = await doomed.getNextJob('dead-consumer');
    assert.equal(taken?.id, job.id);
    await doomed.close();
    assert.equal(await job.getState(), 'active');

    const tracker = await bed.tracker('fn-19');
    await start();
    const { completed } = await tracker.wait([job.id!], 30_000);
    assert.deepEqual(completed.get(job.id!), { sum: 42 });
    const done = (await queue.getJob(job.id!))!;
    assert.equal(done.stalledCounter, 1, 'taken back by stalled-job recovery');
  });

  it('leaves jobs waiting in Redis while the memory budget is full, and status says limited', async () => {
    const dispatcher = await start({ 'dispatcher.memoryBudgetMb': 1 });
    const queue = bed.queue('fn-23');
    const tracker = await bed.tracker('fn-23');
    const jobs = await queue.addBulk(Array.from({ length: 20 }, (_, n) => ({ name: 'job', data: { a: n, b: 1, ms: 500 } })));
    const limited = await until('the budget to bind', () => (dispatcher.stats().memory!.limited.includes('fn-23') ? dispatcher.stats() : undefined), 20_000);
    assert.equal(limited.memory!.budgetMb, 1);
    const waiting = await queue.getWaitingCount();
    assert.ok(waiting >= 10, `${waiting} of 20 jobs wait in Redis`);
    assert.ok((await queue.getActiveCount()) <= 5, 'few jobs held in memory');

    const fleet = await until(
      'a heartbeat that says limited',
      async () => {
        const read = await readFleet(bed.redis, bed.prefix, 500);
        return read.dispatchers[0]?.memory?.limited.includes('fn-23') ? read : undefined;
      },
      10_000,
    );
    assert.match(render(fleet).join('\n'), /limited: fn-23/);

    // Slowly, every job still runs.
    const { completed } = await tracker.wait(
      jobs.map((j) => j.id!),
      60_000,
    );
    for (const [n, job] of jobs.entries()) assert.deepEqual(completed.get(job.id!), { sum: n + 1 });
  });
});
