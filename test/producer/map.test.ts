// map against a running dispatcher: 20,000 items in and out of order with 1% failing per item,
// streamed inputs with backpressure, progress, failFast and cancel.
import { strict as assert } from 'node:assert';
import { Queue } from 'bullmq';
import { ErrorCodes, PhotonsError } from '../../errors';
import type { ItemResult, RunProgress } from '../../producer/types';
import { REDIS_URL, range, startStack, type Stack } from './helpers';

const N = 20_000;
const redis = new URL(REDIS_URL);
const inputOf = (i: number): { n: number; fail?: boolean } => (i % 100 === 37 ? { n: i, fail: true } : { n: i });

function checkAll(results: ItemResult[], n: number): void {
  assert.equal(results.length, n);
  const seen = new Set<number>();
  for (const r of results) {
    assert.ok(!seen.has(r.index), `index ${r.index} twice`);
    seen.add(r.index);
    if (r.index % 100 === 37) {
      assert.ok(!r.ok, `item ${r.index} should fail`);
      assert.equal(r.error.code, ErrorCodes.HANDLER);
      assert.match(r.error.message, new RegExp(`item ${r.index} asked to fail`));
    } else {
      assert.ok(r.ok, `item ${r.index} failed: ${r.ok ? '' : r.error.message}`);
      assert.deepEqual(r.value, { n: r.index });
    }
  }
}

describe('producer map', function () {
  this.timeout(120_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it(`runs ${N} items unordered, chunked, each failure reported on its item`, async () => {
    const progress: RunProgress[] = [];
    const run = await stack.client.map('echo', range(N).map(inputOf), { chunkSize: 200, onProgress: (p) => progress.push(p) });
    const results: ItemResult[] = [];
    for await (const result of run) results.push(result);
    checkAll(results, N);
    assert.deepEqual(run.progress(), { runId: run.id, fn: 'echo', state: 'done', total: N, enqueued: N, done: N, failed: N / 100 });
    assert.deepEqual(progress[progress.length - 1], run.progress());
  });

  it(`runs ${N} items in input order from an async iterable, with a small window`, async () => {
    async function* inputs(): AsyncGenerator<unknown> {
      for (let i = 0; i < N; i++) yield inputOf(i);
    }
    const run = await stack.client.map('echo', inputs(), { chunkSize: 100, ordered: true, maxInFlight: 2_000 });
    assert.equal(run.progress().total, null);
    const results: ItemResult[] = [];
    let maxAhead = 0;
    for await (const result of run) {
      assert.equal(result.index, results.length);
      results.push(result);
      maxAhead = Math.max(maxAhead, run.progress().enqueued - results.length);
    }
    checkAll(results, N);
    assert.ok(maxAhead <= 2_000, `the window was exceeded: ${maxAhead} items ahead`);
  });

  it('runs plain jobs when chunkSize is 1, and an empty input', async () => {
    const run = await stack.client.map(
      'double',
      range(300).map((n) => ({ n })),
      { ordered: true },
    );
    const values = [];
    for await (const r of run) values.push(r.ok ? r.value : r.error);
    assert.deepEqual(
      values,
      range(300).map((n) => ({ n: 2 * n })),
    );
    const empty = await stack.client.map('echo', []);
    assert.deepEqual(await empty.finished(), { runId: empty.id, fn: 'echo', state: 'done', total: 0, enqueued: 0, done: 0, failed: 0 });
  });

  it('stops at the first failure with failFast, cancelling the rest', async () => {
    const inputs = [{ n: 0, fail: true }, ...range(200).map((n) => ({ ms: 200, n }))];
    const run = await stack.client.map('echo', inputs, { failFast: true, chunkSize: 1 });
    await assert.rejects(run.finished(), (err: unknown) => {
      assert.ok(err instanceof PhotonsError);
      assert.equal(err.code, ErrorCodes.RUN_FAILED);
      assert.match(err.message, /item 0 failed with PHOTONS_ERR_HANDLER: item 0 asked to fail/);
      return true;
    });
    assert.equal((await stack.client.runProgress(run.id)).state, 'failed');
    // The rest were cancelled in Redis: none left waiting to run, and far from all of them ran.
    const queue = new Queue('echo', { connection: { host: redis.hostname, port: Number(redis.port || 6379) }, prefix: stack.prefix });
    try {
      // The run's jobs are `<run id>.<chunk>`; other tests of this file use the same queue.
      const mine = async (...states: Array<'waiting' | 'prioritized' | 'delayed' | 'completed'>): Promise<number> =>
        (await queue.getJobs(states)).filter((job) => job.id!.startsWith(`${run.id}.`)).length;
      assert.equal(await mine('waiting', 'prioritized', 'delayed'), 0, 'jobs of the run still queued');
      const completed = await mine('completed');
      assert.ok(completed < 200, `${completed} of the 200 items after the failure ran`);
    } finally {
      await queue.close();
    }
  });

  it('cancels a run: unfinished items fail with PHOTONS_ERR_CANCELLED', async () => {
    const run = await stack.client.map(
      'slow',
      range(50).map((n) => ({ ms: 5_000, n })),
      { chunkSize: 5 },
    );
    const results: ItemResult[] = [];
    const collecting = (async () => {
      for await (const r of run) results.push(r);
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await run.cancel();
    await collecting;
    assert.equal(results.length, 50);
    for (const r of results) assert.equal(r.ok ? 'ok' : r.error.code, ErrorCodes.CANCELLED);
    assert.equal(run.progress().state, 'cancelled');
  });
});
