// What callers send, hardened: job ids that would name a BullMQ queue key, ids at their full
// length, reused ids, inputs nested too deep, option values past BullMQ's limits, quotas (inputs
// per request, rate limits), slow uploads, and 5xx answers that tell a caller nothing internal.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { badRequests } from '../../bench/faults/bad-requests';
import { ErrorCodes, PhotonsError } from '../../errors';
import { loadConfig } from '../../config';
import { buildApi, startApi, type ApiOptions } from '../../producer/api/server';
import { PhotonsClient } from '../../producer/client';
import { MAX_CUSTOM_JOB_ID_LENGTH, RESERVED_JOB_IDS } from '../../producer/job-id';
import { FIXTURE_FUNCTIONS, REDIS_URL, startStack, type Stack } from './helpers';

type Answer = {
  status: number;
  headers: Record<string, unknown>;
  body: { error?: { code: string; message: string; requestId?: string } } & Record<string, unknown>;
};

function nested(open: string, close: string, depth: number, inner = '1'): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

/** An object `depth` levels deep: { a: { a: ... 1 } }. */
function deepObject(depth: number): string {
  return nested('{"a":', '}', depth);
}

describe('producer input hardening', function () {
  let stack: Stack;
  const apps: FastifyInstance[] = [];
  let app: FastifyInstance;

  async function api(options: Partial<ApiOptions> = {}): Promise<FastifyInstance> {
    const built = await buildApi({ client: stack.client, maxWaitMs: 10_000, ...options });
    apps.push(built);
    return built;
  }

  before(async () => {
    stack = await startStack();
    app = await api();
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await stack?.stop();
  });

  async function send(method: 'GET' | 'POST', url: string, body?: unknown, on: FastifyInstance = app): Promise<Answer> {
    const payload = typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body);
    const response = await on.inject({
      method,
      url,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: response.statusCode, headers: response.headers, body: response.json() as Answer['body'] };
  }

  async function expectError(answer: Promise<Answer>, status: number, code: string, pattern?: RegExp): Promise<Answer> {
    const got = await answer;
    assert.equal(got.status, status, JSON.stringify(got.body).slice(0, 400));
    assert.equal(got.body.error?.code, code);
    if (pattern) assert.match(got.body.error.message, pattern);
    return got;
  }

  async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
    await assert.rejects(promise, (err: unknown) => err instanceof PhotonsError && err.code === code);
  }

  describe('job ids', () => {
    it('refuses ids naming a BullMQ queue key, everywhere, and the queue keeps working', async () => {
      for (const key of [
        'delayed',
        'active',
        'completed',
        'stalled',
        'wait',
        'events',
        'marker',
        'id',
        'prioritized',
        'pc',
        'meta',
        'paused',
        'limiter',
        'repeat',
        'de',
        'metrics',
        'failed',
        'stalled-check',
        'waiting-children',
      ]) {
        assert.ok(RESERVED_JOB_IDS.has(key), key);
        await expectError(send('POST', '/jobs', { fn: 'echo', input: {}, options: { jobId: key } }), 400, ErrorCodes.INVALID_OPTION, /BullMQ's queue keys/);
        await rejectsWith(stack.client.enqueue('echo', {}, { jobId: key }), ErrorCodes.INVALID_OPTION);
      }
      // Keys compare case-sensitively, as Redis does: these are ordinary ids.
      const upper = await send('POST', '/jobs', { fn: 'echo', input: { n: 7 }, options: { jobId: 'Delayed' } });
      assert.equal(upper.status, 202);
      const invoked = await send('POST', '/invoke', { fn: 'echo', input: { n: 1 } });
      assert.deepEqual({ ok: invoked.body.ok, value: invoked.body.value }, { ok: true, value: { n: 1 } });
    });

    it("refuses them on the admin queue board's add-job path too", async () => {
      const running = await startApi(
        loadConfig({ 'redis.url': REDIS_URL, 'redis.prefix': stack.prefix, 'api.port': 0, 'api.token': 'board-token', 'log.level': 'silent' }, ''),
        pino({ level: 'silent' }),
      );
      try {
        const add = (jobId: string) =>
          fetch(`${running.url}/dashboard/admin/queues/api/queues/echo/add`, {
            method: 'POST',
            headers: { authorization: 'Bearer board-token', 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'echo', data: { n: 1 }, options: { jobId } }),
          });
        for (const jobId of ['delayed', 'wait', 'meta', 'id']) {
          const refused = await add(jobId);
          assert.equal(refused.status, 400);
          assert.equal(((await refused.json()) as { error: { code: string } }).error.code, ErrorCodes.INVALID_OPTION);
        }
        const fine = await add('board-added-1');
        assert.equal(fine.status, 200, await fine.text());
      } finally {
        await running.close();
      }
      const invoked = await send('POST', '/invoke', { fn: 'echo', input: { n: 2 } });
      assert.equal(invoked.body.ok, true);
    });

    it('reads back an id of the full allowed length, and refuses a longer one', async () => {
      const longest = `L${'x'.repeat(MAX_CUSTOM_JOB_ID_LENGTH - 1)}`;
      const enqueued = await send('POST', '/jobs', { fn: 'echo', input: { n: 3 }, options: { jobId: longest } });
      assert.equal(enqueued.status, 202);
      assert.equal(enqueued.body.jobId, longest);
      const read = await send('GET', `/jobs/${longest}`);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body.jobId, longest);
      await expectError(send('POST', '/jobs', { fn: 'echo', input: {}, options: { jobId: `${longest}x` } }), 400, ErrorCodes.INVALID_OPTION, /1 to 128/);
    });

    it('answers the existing job for the same id, function and input; 409 for another input or function', async () => {
      const first = await send('POST', '/jobs', { fn: 'echo', input: { a: 1, b: [1, 2] }, options: { jobId: 'reused-1' } });
      assert.equal(first.status, 202);
      assert.equal(first.body.existing, false);
      // Key order is no difference in JSON.
      const again = await send('POST', '/jobs', { fn: 'echo', input: { b: [1, 2], a: 1 }, options: { jobId: 'reused-1' } });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, { jobId: 'reused-1', fn: 'echo', existing: true });
      await expectError(send('POST', '/jobs', { fn: 'echo', input: { a: 2 }, options: { jobId: 'reused-1' } }), 409, ErrorCodes.JOB_EXISTS, /another input/);
      await expectError(send('POST', '/jobs', { fn: 'double', input: { n: 1 }, options: { jobId: 'reused-1' } }), 409, ErrorCodes.JOB_EXISTS, /"echo"/);

      assert.equal(await stack.client.enqueue('echo', { a: 1, b: [1, 2] }, { jobId: 'reused-1' }), 'reused-1');
      assert.deepEqual(await stack.client.submit('echo', { a: 1, b: [1, 2] }, { jobId: 'reused-1' }), { jobId: 'reused-1', existing: true });
      await rejectsWith(stack.client.enqueue('echo', { a: 3 }, { jobId: 'reused-1' }), ErrorCodes.JOB_EXISTS);
      // The job ran once, on the first input.
      const settled = await stack.client.invokeSettled('echo', { a: 1, b: [1, 2] }, { jobId: 'reused-1' });
      assert.deepEqual(settled.outcome, { ok: true, value: { a: 1, b: [1, 2] } });
    });
  });

  describe('inputs and options', () => {
    it('refuses inputs nested past producer.maxInputDepth with a 400, however deep, and takes them up to it', async () => {
      for (const body of [
        `{"fn":"echo","input":${deepObject(3_500)}}`,
        `{"fn":"echo","input":${nested('[', ']', 2_000)}}`,
        `{"fn":"echo","input":${nested('[', ']', 20_000)}}`,
        `{"fn":"echo","input":${deepObject(65)}}`,
      ]) {
        await expectError(send('POST', '/jobs', body), 400, ErrorCodes.INPUT_TOO_DEEP, /maxInputDepth/);
        await expectError(send('POST', '/invoke', body), 400, ErrorCodes.INPUT_TOO_DEEP);
      }
      await expectError(send('POST', '/jobs/bulk', `{"fn":"echo","inputs":[1,${deepObject(3_500)}]}`), 400, ErrorCodes.INPUT_TOO_DEEP, /inputs\[1\]/);
      await expectError(send('POST', '/runs', `{"fn":"echo","inputs":[${nested('[', ']', 2_000)}]}`), 400, ErrorCodes.INPUT_TOO_DEEP);
      const deepest = await send('POST', '/invoke', `{"fn":"echo","input":${deepObject(64)}}`);
      assert.equal(deepest.status, 200, JSON.stringify(deepest.body).slice(0, 300));
      assert.equal(deepest.body.ok, true);

      const deep: { a?: unknown } = {};
      let at = deep;
      for (let i = 0; i < 10_000; i++) at = (at.a = {}) as { a?: unknown };
      await rejectsWith(stack.client.enqueue('echo', deep), ErrorCodes.INPUT_TOO_DEEP);
      await rejectsWith(stack.client.map('echo', [1, deep]), ErrorCodes.INPUT_TOO_DEEP);
      const strict = new PhotonsClient({ maxInputDepth: 2, redisUrl: REDIS_URL, prefix: stack.prefix });
      try {
        await rejectsWith(strict.enqueue('echo', [[[1]]]), ErrorCodes.INPUT_TOO_DEEP);
        assert.equal(typeof (await strict.enqueue('echo', [[1]])), 'string');
        // A map over an iterable checks each input as it reads it, at the client's depth too.
        const run = await strict.map(
          'echo',
          (function* () {
            yield [[1]];
            yield [[[1]]];
          })(),
        );
        await rejectsWith(run.finished(), ErrorCodes.INPUT_TOO_DEEP);
      } finally {
        await strict.close();
      }
      const generous = new PhotonsClient({ maxInputDepth: 100, redisUrl: REDIS_URL, prefix: stack.prefix });
      try {
        const input = JSON.parse(deepObject(80)) as unknown;
        for (const inputs of [[input], new Set([input])]) {
          const run = await generous.map('echo', inputs);
          assert.deepEqual(
            await run.all(),
            [{ index: 0, ok: true, value: input }],
            "an input deeper than the default but within the client's maxInputDepth runs",
          );
        }
      } finally {
        await generous.close();
      }
    });

    it('checks priority, delay, backoff and attempts before BullMQ sees them: 400, not 500', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ priority: 3_000_000 }, /priority must be an integer from 1/],
        [{ priority: 2_097_152 }, /2097151/],
        [{ delayMs: 31_536_000_001 }, /maxDelayMs/],
        [{ backoffMs: 31_536_000_001 }, /maxDelayMs/],
        [{ attempts: 1_001 }, /maxAttempts/],
      ];
      for (const [options, pattern] of cases) {
        await expectError(send('POST', '/jobs', { fn: 'echo', input: 1, options }), 400, ErrorCodes.INVALID_OPTION, pattern);
        await expectError(send('POST', '/jobs/bulk', { fn: 'echo', inputs: [1], options }), 400, ErrorCodes.INVALID_OPTION, pattern);
        await rejectsWith(stack.client.enqueue('echo', 1, options), ErrorCodes.INVALID_OPTION);
      }
      await expectError(send('POST', '/runs', { fn: 'echo', inputs: [1], attempts: 1_001 }), 400, ErrorCodes.INVALID_OPTION, /maxAttempts/);
      const edge = await send('POST', '/jobs', { fn: 'echo', input: 1, options: { priority: 2_097_151, attempts: 1_000, delayMs: 31_536_000_000 } });
      assert.equal(edge.status, 202, JSON.stringify(edge.body));
    });
  });

  describe('quotas', () => {
    it('refuses more inputs per request than api.maxInputsPerRequest', async () => {
      const small = await api({ maxInputsPerRequest: 5 });
      await expectError(send('POST', '/jobs/bulk', { fn: 'echo', inputs: [1, 2, 3, 4, 5, 6] }, small), 400, ErrorCodes.TOO_MANY_INPUTS, /maxInputsPerRequest/);
      await expectError(send('POST', '/runs', { fn: 'echo', inputs: [1, 2, 3, 4, 5, 6] }, small), 400, ErrorCodes.TOO_MANY_INPUTS);
      assert.equal((await send('POST', '/jobs/bulk', { fn: 'echo', inputs: [1, 2, 3, 4, 5] }, small)).status, 202);
    });

    it('answers 429 with Retry-After past the rate limit of one address, and of all', async () => {
      const perAddress = await api({ rateLimitPerAddress: 3, rateLimitWindowMs: 60_000 });
      for (let i = 0; i < 3; i++) assert.equal((await send('GET', '/health', undefined, perAddress)).status, 200);
      const limited = await expectError(send('GET', '/health', undefined, perAddress), 429, ErrorCodes.RATE_LIMITED, /rateLimitPerAddress/);
      assert.ok(Number(limited.headers['retry-after']) >= 1, String(limited.headers['retry-after']));

      const global = await api({ rateLimitPerAddress: 0, rateLimitGlobal: 2, rateLimitWindowMs: 60_000 });
      for (let i = 0; i < 2; i++) assert.equal((await send('GET', '/functions', undefined, global)).status, 200);
      const all = await expectError(send('GET', '/functions', undefined, global), 429, ErrorCodes.RATE_LIMITED, /rateLimitGlobal/);
      assert.ok(Number(all.headers['retry-after']) >= 1);
    });

    it('answers 408 and closes a connection whose body trickles past api.requestTimeoutMs', async () => {
      const slow = await api({ requestTimeoutMs: 500 });
      await slow.listen({ host: '127.0.0.1', port: 0 });
      const address = slow.server.address();
      assert.ok(address && typeof address === 'object');
      const socket = connect(address.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('POST /jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"fn":"ec');
      // A byte now and then: the socket is never idle, the body never done.
      const drip = setInterval(() => socket.writable && socket.write(' '), 100);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      await once(socket, 'close');
      clearInterval(drip);
      assert.match(received, /^HTTP\/1\.1 408/);
      assert.match(received, new RegExp(ErrorCodes.REQUEST_TIMEOUT));
    });
  });

  it("answers every request of the fault suite's API flood with a 4xx and a PHOTONS_ERR code", async () => {
    const guarded = await api({ token: 'flood-token', bodyLimitBytes: 65_536 });
    const requests = badRequests('flood-token', 65_536);
    for (const kind of ['input nested: object 3,500 deep', 'input nested: array 2,000 deep', 'too many inputs'])
      assert.ok(
        requests.some((r) => r.kind === kind),
        kind,
      );
    const wrong: string[] = [];
    for (const r of requests) {
      // The flood's function is tally; here echo is deployed, so that only what is wrong is refused.
      const body = typeof r.body === 'string' ? r.body.split('"fn":"tally"').join('"fn":"echo"') : r.body;
      const response = await guarded.inject({ method: r.method as 'GET', url: r.path, headers: r.headers, ...(body === undefined ? {} : { payload: body }) });
      if (response.statusCode < 400 || response.statusCode >= 500 || !/"code":"PHOTONS_ERR_[A-Z_]+"/.test(response.body))
        wrong.push(`${r.kind} ${r.method} ${r.path.slice(0, 60)}: ${response.statusCode} ${response.body.slice(0, 120)}`);
    }
    assert.deepEqual(wrong, []);
  });

  describe('answers carry no server internals', () => {
    it('answers a 5xx with its code and a request id only; the log has the error under that id', async () => {
      const lines: string[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(chunk.toString()), done()) });
      const logged = await api({ logger: pino({ level: 'error' }, sink) });
      logged.get('/fails-inside', async () => {
        throw new Error('cannot open /srv/secret/photons.sock as uid 1000');
      });
      const answer = await expectError(send('GET', '/fails-inside', undefined, logged), 500, ErrorCodes.INTERNAL);
      const { requestId, message } = answer.body.error!;
      assert.ok(typeof requestId === 'string' && requestId.length > 0);
      assert.doesNotMatch(JSON.stringify(answer.body), /secret|uid|\.sock/);
      assert.ok(!/secret/.test(message));
      const line = lines.find((l) => l.includes('/srv/secret/photons.sock'));
      assert.ok(line, lines.join('\n'));
      assert.ok(line.includes(`"${requestId}"`), line);
    });

    it('GET /functions lists names and file names, no absolute path', async () => {
      const answer = await send('GET', '/functions');
      const functions = answer.body.functions as Array<{ name: string; file?: string }>;
      assert.ok(functions.some((f) => f.name === 'echo'));
      for (const f of functions) {
        if (f.file !== undefined) assert.ok(!f.file.includes('/'), f.file);
      }
      assert.ok(!JSON.stringify(answer.body).includes(FIXTURE_FUNCTIONS));
      assert.equal(functions.find((f) => f.name === 'echo')?.file, 'echo.ts');
    });
  });
});
