// The client against a running dispatcher: enqueue, invoke, result, cancel, functions, and the
// checks that refuse bad names, inputs and options before anything reaches Redis.
import { strict as assert } from 'node:assert';
import { ErrorCodes, JobFailedError } from '../../errors';
import { PhotonsClient } from '../../producer/client';
import { rejectsWith, startStack, REDIS_URL, type Stack } from './helpers';

describe('producer client', function () {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('invokes a function and returns its result', async () => {
    assert.deepEqual(await stack.client.invoke('echo', { n: 1 }), { n: 1 });
  });

  it('rejects with JobFailedError carrying the function error', async () => {
    await assert.rejects(stack.client.invoke('echo', { n: 2, fail: true }), (err: unknown) => {
      assert.ok(err instanceof JobFailedError);
      assert.equal(err.code, ErrorCodes.JOB_FAILED);
      assert.equal(err.jobError.code, ErrorCodes.HANDLER);
      assert.match(err.jobError.message, /item 2 asked to fail/);
      assert.match(err.jobError.stack ?? '', /echo/);
      return true;
    });
  });

  it('enqueues, then reads the result by job id', async () => {
    const jobId = await stack.client.enqueue('echo', { n: 3 });
    let status = await stack.client.result(jobId);
    const deadline = Date.now() + 10_000;
    while (status.state !== 'completed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await stack.client.result(jobId);
    }
    assert.equal(status.fn, 'echo');
    assert.equal(status.state, 'completed');
    assert.deepEqual(status.value, { n: 3 });
  });

  it('enqueues in bulk, and every job runs on its own input', async () => {
    const ids = await stack.client.enqueueBulk('double', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 3);
    const values: unknown[] = [];
    for (const id of ids) {
      let status = await stack.client.result(id);
      while (status.state !== 'completed' && status.state !== 'failed') {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = await stack.client.result(id);
      }
      assert.equal(status.state, 'completed', JSON.stringify(status));
      values.push(status.value);
    }
    assert.deepEqual(values, [{ n: 2 }, { n: 4 }, { n: 6 }]);
  });

  it('waits no longer than timeoutMs', async () => {
    await rejectsWith(stack.client.invoke('slow', { ms: 2_000 }, { timeoutMs: 100 }), ErrorCodes.WAIT_TIMEOUT, /may still finish/);
  });

  it('cancels a running job: its handler sees ctx.signal', async () => {
    const jobId = await stack.client.enqueue('slow', { ms: 30_000 });
    const deadline = Date.now() + 10_000;
    while ((await stack.client.result(jobId)).state !== 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await stack.client.cancel(jobId)).outcome, 'signalled');
    let status = await stack.client.result(jobId);
    while (status.state !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      status = await stack.client.result(jobId);
    }
    assert.equal(status.error?.code, ErrorCodes.CANCELLED);
  });

  it('cancels a waiting job by removing it', async () => {
    const jobId = await stack.client.enqueue('echo', { n: 4 }, { delayMs: 60_000 });
    assert.deepEqual(await stack.client.cancel(jobId), { jobId, fn: 'echo', outcome: 'removed' });
    const status = await stack.client.result(jobId);
    assert.equal(status.state, 'failed');
    assert.equal(status.error?.code, ErrorCodes.CANCELLED);
  });

  it('lists the functions the dispatcher registered', async () => {
    const names = (await stack.client.functions()).map((f) => f.name);
    assert.deepEqual(names, ['double', 'echo', 'slow', 'sum']);
  });

  describe('refuses bad calls before enqueueing', () => {
    it('an unknown function, naming the deployed ones', async () => {
      await rejectsWith(stack.client.enqueue('nope', {}), ErrorCodes.UNKNOWN_FUNCTION, /No function "nope" is deployed \(deployed: double, echo, slow, sum\)/);
    });
    it('an invalid function name', async () => {
      await rejectsWith(stack.client.enqueue('../etc', {}), ErrorCodes.INVALID_FUNCTION_NAME, /"..\/etc" is not a valid function name/);
    });
    it('an input that is not JSON, naming where', async () => {
      await rejectsWith(stack.client.enqueue('echo', { a: [1, NaN] }), ErrorCodes.INPUT_NOT_JSON, /input\.a\[1\] is NaN/);
      await rejectsWith(stack.client.enqueue('echo', { when: new Map() }), ErrorCodes.INPUT_NOT_JSON, /input\.when is a Map object/);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      await rejectsWith(stack.client.enqueue('echo', cycle), ErrorCodes.INPUT_NOT_JSON, /circular/);
      await rejectsWith(stack.client.map('echo', [1, () => 2]), ErrorCodes.INPUT_NOT_JSON, /inputs\[1\] is a function/);
    });
    it('bad option values, naming the option', async () => {
      await rejectsWith(stack.client.map('echo', [1], { chunkSize: 0 }), ErrorCodes.INVALID_OPTION, /^options\.chunkSize must be a positive integer, got 0\.$/);
      await rejectsWith(
        stack.client.map('echo', [1], { ordered: 'yes' as unknown as boolean }),
        ErrorCodes.INVALID_OPTION,
        /options\.ordered must be a boolean/,
      );
      await rejectsWith(stack.client.enqueue('echo', 1, { jobId: '12' }), ErrorCodes.INVALID_OPTION, /options\.jobId must be a job id/);
      await rejectsWith(stack.client.invoke('echo', 1, { timeoutMs: -1 }), ErrorCodes.INVALID_OPTION, /options\.timeoutMs must be a positive integer/);
      await rejectsWith(
        stack.client.enqueue('echo', 1, { chunksize: 2 } as never),
        ErrorCodes.INVALID_OPTION,
        /options\.chunksize is not an option of enqueue/,
      );
      await rejectsWith(stack.client.map('echo', 'abc'), ErrorCodes.INVALID_OPTION, /inputs of map must be an array/);
      assert.throws(() => new PhotonsClient({ redisUrl: REDIS_URL, maxInFlight: 1.5 }), /options\.maxInFlight must be a positive integer, got 1\.5/);
      assert.throws(
        () => new PhotonsClient({ redisUrl: 'redis://a:7000,redis://b:7000' }),
        /options\.redisUrl lists several URLs, which only a Redis Cluster takes: set options\.cluster to true/,
      );
      assert.throws(
        () => new PhotonsClient({ redisUrl: REDIS_URL, cluster: 'yes' as unknown as boolean }),
        /options\.cluster must be true or false, got "yes"/,
      );
    });
    it('unknown job and run ids', async () => {
      await rejectsWith(stack.client.result('no-such-job'), ErrorCodes.JOB_NOT_FOUND, /No job no-such-job/);
      await rejectsWith(stack.client.resumeRun('no-such-run'), ErrorCodes.RUN_NOT_FOUND, /No run no-such-run/);
      await rejectsWith(stack.client.result('bad id!'), ErrorCodes.INVALID_OPTION, /jobId must be a job id/);
    });
  });

  it('fails fast with a clear message when Redis does not answer', async () => {
    const client = new PhotonsClient({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      await rejectsWith(client.enqueue('echo', 1), ErrorCodes.REDIS_UNAVAILABLE, /No Redis answers at redis:\/\/127\.0\.0\.1:1/);
    } finally {
      await client.close();
    }
  });
});
