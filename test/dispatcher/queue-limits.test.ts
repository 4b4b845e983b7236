// A function's rateLimit and maxConcurrency hold across two dispatchers: they are its queue's
// settings in Redis (BullMQ's global rate limit and concurrency), jobs over them wait in the queue,
// and a chunk of a map is charged its items.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Job } from 'bullmq';
import { readLimits } from '../../contract/queue-limits';
import { CHUNK_JOB_NAME } from '../../contract/wire';
import { renderSections } from '../../cli/status-sections';
import { deployBundle } from '../../dispatcher/deployments';
import { bundleFunction } from '../../photon-worker/bundle';
import { REPO_ROOT, TestBed, until } from './helpers';

const LIMITS_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'limits');
/** Clocks of one machine; BullMQ stamps processedOn in the worker, expires the window in Redis. */
const SLACK_MS = 50;

describe('per-function limits', function () {
  this.timeout(60_000);
  let bed: TestBed;
  beforeEach(() => {
    bed = new TestBed();
  });
  afterEach(async () => {
    await bed.cleanup();
  });

  async function twoDispatchers(): Promise<void> {
    await bed.dispatcher({ functionsDir: LIMITS_DIR });
    await bed.dispatcher({ functionsDir: LIMITS_DIR });
  }

  /** The queue's settings as BullMQ reads them when a worker takes a job. */
  async function meta(fn: string): Promise<Record<string, string>> {
    return bed.redis.hgetall(`${bed.prefix}:${fn}:meta`);
  }

  async function finished(fn: string, ids: string[]): Promise<Job[]> {
    const queue = bed.queue(fn);
    return until(
      `${ids.length} jobs of ${fn} to complete`,
      async () => {
        const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
        return jobs.every((job) => job?.finishedOn) ? (jobs as Job[]) : undefined;
      },
      30_000,
      100,
    );
  }

  it('applies rateLimit to the queue and holds it across two dispatchers; jobs over it wait in the queue', async () => {
    await twoDispatchers();
    await until('the rate limit in Redis', async () => ((await meta('limited')).max ? true : undefined), 20_000, 50);
    const { max, duration, concurrency } = await meta('limited');
    assert.deepEqual({ max, duration, concurrency }, { max: '3', duration: '1000', concurrency: undefined });
    const free = await meta('free');
    assert.deepEqual([free.max, free.duration, free.concurrency], [undefined, undefined, undefined], 'a function without limits gets none');
    const queue = bed.queue('limited');
    const added = await queue.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: 'limited', data: { i } })));
    // Within the first window: three started, the rest wait in Redis, not in a dispatcher.
    const counts = await until('the first window to fill', async () => {
      const c = await queue.getJobCounts('active', 'wait', 'completed');
      return c.completed! + c.active! >= 3 ? c : undefined;
    });
    assert.ok(counts.wait! >= 5, JSON.stringify(counts));
    // What `photons status` shows meanwhile.
    const limits = (await readLimits(bed.redis, bed.prefix)).find((l) => l.fn === 'limited');
    assert.ok(limits!.rateLimitedForMs > 0 && limits!.rateLimitedForMs <= 1000, JSON.stringify(limits));
    assert.match(renderSections({ schedules: [], limits: [limits!] }).join('\n'), /^limited +3 per 1000 ms +- +LIMITED: rate-limited for \d\.\d s$/m);
    const starts = (
      await finished(
        'limited',
        added.map((job) => job.id!),
      )
    )
      .map((job) => job.processedOn!)
      .sort((a, b) => a - b);
    for (let k = 1; k * 3 < starts.length; k++) {
      assert.ok(starts[k * 3]! - starts[0]! >= k * 1000 - SLACK_MS, `job ${k * 3} started ${starts[k * 3]! - starts[0]!} ms after the first`);
    }
  });

  it('waits out a rate limit without spinning: jobs over it leave the dispatcher idle', async () => {
    await bed.dispatcher({ functionsDir: LIMITS_DIR });
    await until('the rate limit in Redis', async () => ((await meta('limited')).max ? true : undefined), 20_000, 50);
    const queue = bed.queue('limited');
    await queue.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'limited', data: { i } })));
    await until('the first window to fill', async () => ((await queue.getJobCounts('completed')).completed! >= 3 ? true : undefined));
    // BullMQ answers a fetch from a rate-limited queue at once, without Redis: fetched again
    // straight away, that is a loop of promises holding this thread (and its timers) at 100 %.
    const before = performance.eventLoopUtilization();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const busy = performance.eventLoopUtilization(before).utilization;
    assert.ok(busy < 0.5, `the dispatcher's thread was busy ${(busy * 100).toFixed(0)} % of the time while rate limited`);
    assert.ok((await queue.getJobCounts('wait')).wait! > 0, 'jobs over the limit wait in Redis');
  });

  it('charges a chunk its items', async () => {
    await twoDispatchers();
    await until('the rate limit in Redis', async () => ((await meta('limited')).max ? true : undefined), 20_000, 50);
    const queue = bed.queue('limited');
    const chunk = await queue.add(CHUNK_JOB_NAME, { items: [1, 2, 3, 4, 5, 6] });
    const [ran] = await finished('limited', [chunk.id!]);
    assert.equal((ran!.returnvalue as { items: unknown[] }).items.length, 6);
    const after = await queue.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'limited', data: { i } })));
    // Six items are two windows of three: nothing else starts before the second one ends.
    for (const job of await finished(
      'limited',
      after.map((j) => j.id!),
    )) {
      assert.ok(job.processedOn! - ran!.processedOn! >= 2000 - SLACK_MS, `a job started ${job.processedOn! - ran!.processedOn!} ms after the chunk`);
    }
  });

  it('applies maxConcurrency across two dispatchers: never more than 2 in flight, the others waiting', async () => {
    await twoDispatchers();
    await until('the concurrency in Redis', async () => ((await meta('capped')).concurrency ? true : undefined), 20_000, 50);
    const queue = bed.queue('capped');
    const added = await queue.addBulk(Array.from({ length: 8 }, () => ({ name: 'capped', data: { ms: 300 } })));
    let sawWaiting = false;
    let maxActive = 0;
    for (let i = 0; i < 10; i++) {
      const c = await queue.getJobCounts('active', 'wait');
      maxActive = Math.max(maxActive, c.active!);
      sawWaiting ||= c.wait! > 0 && c.active! > 0;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const jobs = await finished(
      'capped',
      added.map((job) => job.id!),
    );
    // At any job's start, how many ran: the intervals [processedOn, finishedOn) overlap at most twice.
    for (const job of jobs) {
      const running = jobs.filter((other) => other.processedOn! <= job.processedOn! && other.finishedOn! > job.processedOn!).length;
      assert.ok(running <= 2, `${running} jobs in flight when ${job.id} started`);
    }
    assert.ok(maxActive <= 2, `active ${maxActive}`);
    const limits = (await readLimits(bed.redis, bed.prefix)).find((l) => l.fn === 'capped');
    assert.deepEqual([limits?.maxConcurrency, limits?.rateLimit, limits?.atMaxConcurrency], [2, null, false], 'not limited once the jobs are done');
    assert.ok(sawWaiting, 'jobs over the cap waited in the queue');
  });

  it("follows a deploy: the newest version's limits replace the old ones, and limits it drops are removed", async () => {
    await twoDispatchers();
    await until('the concurrency in Redis', async () => ((await meta('capped')).concurrency === '2' ? true : undefined), 20_000, 50);
    const dir = mkdtempSync(path.join(tmpdir(), 'photons-limits-'));
    try {
      const file = path.join(dir, 'capped.ts');
      writeFileSync(file, 'export const config = { rateLimit: { max: 5, durationMs: 2000 } };\nexport default (input: unknown) => input;\n');
      await deployBundle(bed.redis, bed.prefix, await bundleFunction(file));
      const updated = await until('the new limits in Redis', async () => {
        const m = await meta('capped');
        return m.max === '5' ? m : undefined;
      });
      assert.deepEqual([updated.max, updated.duration, updated.concurrency], ['5', '2000', undefined]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
