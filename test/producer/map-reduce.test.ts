// mapReduce against a running dispatcher: the reducer reads every map result in input order with
// ctx.results(), failures reach it unless failFast, the reduce runs once however many processes
// resume the run; and the wait helpers of a run (first, any, all).
import { strict as assert } from 'node:assert';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { ErrorCodes, type JobFailedError, type PhotonsError } from '../../errors';
import type { ItemResult } from '../../producer/types';
import { REDIS_URL, range, startStack, type Stack } from './helpers';

interface SumResult {
  input: { runId: string; fn: string; total: number; ok: number; failed: number };
  sum: number;
  count: number;
  inOrder: boolean;
  failedAt: number[];
  failed: number;
}

describe('producer mapReduce and the wait helpers', function () {
  this.timeout(120_000);
  let stack: Stack;
  let sumQueue: Queue;
  before(async () => {
    stack = await startStack();
    const redis = new URL(REDIS_URL);
    sumQueue = new Queue('sum', { connection: { host: redis.hostname, port: Number(redis.port) }, prefix: stack.prefix });
  });
  after(async () => {
    await sumQueue?.close();
    await stack?.stop();
  });

  it('reduces 10,000 items in input order: the sum is right and the input carries the run id and counts', async () => {
    const N = 10_000;
    const run = await stack.client.mapReduce<SumResult>(
      'echo',
      range(N).map((n) => ({ n })),
      'sum',
      { chunkSize: 100 },
    );
    const result = await run.result();
    assert.equal(result.sum, (N * (N - 1)) / 2);
    assert.equal(result.count, N);
    assert.equal(result.inOrder, true);
    assert.deepEqual(result.input, { runId: run.id, fn: 'echo', total: N, ok: N, failed: 0 });
    assert.equal(run.reduceJobId, `${run.id}.reduce`);
    assert.equal((await stack.client.result(run.reduceJobId, { fn: 'sum' })).state, 'completed');
  });

  it('hands per-item failures to the reducer as failures', async () => {
    const inputs = range(200).map((n) => (n % 50 === 7 ? { n, fail: true } : { n }));
    const run = await stack.client.mapReduce<SumResult>('echo', inputs, 'sum', { chunkSize: 10 });
    const result = await run.result();
    assert.deepEqual(result.failedAt, [7, 57, 107, 157]);
    assert.equal(result.sum, (200 * 199) / 2 - (7 + 57 + 107 + 157));
    assert.deepEqual([result.input.ok, result.input.failed], [196, 4]);
  });

  it('with failFast stops at the first failure and never starts the reduce', async () => {
    const inputs = range(300).map((n) => (n === 3 ? { n, fail: true } : { n, ms: 20 }));
    const run = await stack.client.mapReduce('echo', inputs, 'sum', { failFast: true, maxInFlight: 50 });
    await assert.rejects(run.result(), (err: PhotonsError) => err.code === ErrorCodes.RUN_FAILED && /item 3 failed/.test(err.message));
    assert.equal(await sumQueue.getJob(run.reduceJobId), undefined);
    // Resuming the failed run does not start the reduce either.
    const resumed = await stack.newClient().resumeMapReduce(run.id);
    await assert.rejects(resumed.result(), (err: PhotonsError) => err.code === ErrorCodes.RUN_FAILED);
    assert.equal(await sumQueue.getJob(run.reduceJobId), undefined);
  });

  it('resumed by id in several processes at once, the reduce runs once', async () => {
    const starter = stack.newClient();
    const N = 400;
    const run = await starter.mapReduce<SumResult>(
      'echo',
      range(N).map((n) => ({ n, ms: 5 })),
      'sum',
      { chunkSize: 20 },
    );
    // The starting process stops following the run once every input is in Redis, before the map
    // ends: nobody has started the reduce.
    while ((await stack.client.runProgress(run.id)).state === 'enqueuing') await delay(10);
    await starter.close();
    assert.equal(await sumQueue.getJob(run.reduceJobId), undefined);
    const [a, b, c] = await Promise.all(
      [stack.newClient(), stack.newClient(), stack.newClient()].map(async (client) => (await client.resumeMapReduce<SumResult>(run.id)).result()),
    );
    assert.equal(a!.sum, (N * (N - 1)) / 2);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    const job = await sumQueue.getJob(run.reduceJobId);
    assert.equal(job?.attemptsStarted, 1, 'the reduce job ran once');
    // Resumed again after it finished: the same result, no second job.
    const again = await (await stack.newClient().resumeMapReduce<SumResult>(run.id)).result();
    assert.deepEqual(again, a);
    assert.equal((await sumQueue.getJob(run.reduceJobId))?.attemptsStarted, 1);
    assert.equal((await sumQueue.getJobCounts('completed')).completed, 3, 'one reduce per run of this suite so far');
    // Its reduce job gone (expired, removed), a resume does not add it again.
    await (await sumQueue.getJob(run.reduceJobId))!.remove();
    const gone = await stack.newClient().resumeMapReduce(run.id);
    await assert.rejects(gone.result(), (err: PhotonsError) => err.code === ErrorCodes.JOB_NOT_FOUND && /not run again/.test(err.message));
    assert.equal(await sumQueue.getJob(run.reduceJobId), undefined);
  });

  it('refuses what is not a map-reduce: a bad reduce function, a plain run, a job without a run', async () => {
    await assert.rejects(stack.client.mapReduce('echo', [1], 'nope'), (err: PhotonsError) => err.code === ErrorCodes.UNKNOWN_FUNCTION);
    const plain = await stack.client.map('echo', [{ n: 1 }]);
    await plain.finished();
    await assert.rejects(
      stack.client.resumeMapReduce(plain.id),
      (err: PhotonsError) => err.code === ErrorCodes.INVALID_OPTION && /without a reduce/.test(err.message),
    );
    await assert.rejects(stack.client.invoke('sum', { n: 1 }), (err: JobFailedError) => err.jobError.code === ErrorCodes.USAGE && /no runId/.test(err.message));
    await assert.rejects(stack.client.invoke('sum', { runId: 'no-such-run' }), (err: JobFailedError) => err.jobError.code === ErrorCodes.RUN_NOT_FOUND);
  });

  it('first(n), any() and all() take results as they complete, each once', async () => {
    const N = 60;
    const run = await stack.client.map(
      'echo',
      range(N).map((n) => ({ n, ms: (n % 6) * 5 })),
    );
    const first = await run.first(5);
    assert.equal(first.length, 5);
    const any = await run.any();
    assert.ok(any.length >= 1);
    const rest = await run.all();
    assert.deepEqual(
      rest.map((r) => r.index),
      [...rest.map((r) => r.index)].sort((x, y) => x - y),
      'all() answers in input order',
    );
    const seen = [...first, ...any, ...rest].map((r: ItemResult) => r.index).sort((x, y) => x - y);
    assert.deepEqual(seen, range(N));
    assert.deepEqual(await run.all(), []);
    await assert.rejects(run.first(0), (err: PhotonsError) => err.code === ErrorCodes.INVALID_OPTION);
  });
});
