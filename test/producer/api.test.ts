// The HTTP API against a running dispatcher: every route, the OpenAPI document, and every kind
// of bad input answered with a 4xx and a PHOTONS_ERR_* code; one test over a real socket.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../../config';
import { ErrorCodes } from '../../errors';
import { buildApi, startApi } from '../../producer/api/server';
import { REDIS_URL, startStack, type Stack } from './helpers';

const TOKEN = 'test-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('producer HTTP API', function () {
  let stack: Stack;
  let app: FastifyInstance;
  before(async () => {
    stack = await startStack();
    app = await buildApi({ client: stack.client, token: TOKEN, bodyLimitBytes: 10_000, maxWaitMs: 5_000 });
  });
  after(async () => {
    await app?.close();
    await stack?.stop();
  });

  async function call(method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = auth) {
    const response = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    // Answers are checked field by field: a loose JSON shape keeps the assertions readable.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.statusCode, body: response.json() as Record<string, any> };
  }

  async function expectError(
    status: number,
    code: string,
    pattern: RegExp,
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const answer = await call(method, url, body, headers);
    assert.equal(answer.status, status, JSON.stringify(answer.body).slice(0, 300));
    const error = (answer.body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
  }

  it('invokes and waits: the value, or the function error', async () => {
    const answer = await call('POST', '/invoke', { fn: 'echo', input: { n: 1 } });
    assert.deepEqual(answer.body, { jobId: answer.body.jobId, fn: 'echo', ok: true, value: { n: 1 } });
    const failed = await call('POST', '/invoke', { fn: 'echo', input: { n: 2, fail: true } });
    assert.equal(failed.status, 200);
    assert.equal(failed.body.ok, false);
    assert.equal(failed.body.error.code, ErrorCodes.HANDLER);
  });

  it('answers 202 with the job id when the wait runs out', async () => {
    const answer = await call('POST', '/invoke', { fn: 'slow', input: { ms: 1_000 }, waitMs: 50 });
    assert.equal(answer.status, 202);
    assert.equal(answer.body.state, 'pending');
  });

  it('enqueues one and many, reads status and result, cancels', async () => {
    const one = await call('POST', '/jobs', { fn: 'double', input: { n: 21 }, options: { attempts: 2 } });
    assert.equal(one.status, 202);
    const bulk = await call('POST', '/jobs/bulk', { fn: 'double', inputs: [{ n: 1 }, { n: 2 }] });
    assert.equal(bulk.body.jobIds.length, 2);
    let status = await call('GET', `/jobs/${one.body.jobId}`);
    for (let i = 0; i < 200 && status.body.state !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = await call('GET', `/jobs/${one.body.jobId}`);
    }
    assert.deepEqual([status.body.state, status.body.value], ['completed', { n: 42 }]);
    const later = await call('POST', '/jobs', { fn: 'echo', input: 1, options: { delayMs: 60_000 } });
    assert.equal((await call('POST', `/jobs/${later.body.jobId}/cancel?fn=echo`)).body.outcome, 'removed');
  });

  it('starts a map run, reports progress and streams the results as NDJSON', async () => {
    const inputs = Array.from({ length: 500 }, (_, n) => (n % 50 === 7 ? { n, fail: true } : { n }));
    const started = await call('POST', '/runs', { fn: 'echo', inputs, chunkSize: 20 });
    assert.equal(started.status, 202);
    const runId = started.body.runId as string;
    const results = await app.inject({ method: 'GET', url: `/runs/${runId}/results?ordered=true`, headers: auth });
    assert.equal(results.headers['content-type'], 'application/x-ndjson');
    const lines = results.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; ok: boolean });
    assert.deepEqual(
      lines.map((l) => l.index),
      inputs.map((_, n) => n),
    );
    assert.equal(lines.filter((l) => !l.ok).length, 10);
    let progress = await call('GET', `/runs/${runId}`);
    for (let i = 0; i < 100 && progress.body.done < 500; i++) {
      await new Promise((r) => setTimeout(r, 20));
      progress = await call('GET', `/runs/${runId}`);
    }
    assert.deepEqual(progress.body, { runId, fn: 'echo', state: 'done', total: 500, enqueued: 500, done: 500, failed: 10 });
  });

  it('lists functions and serves an OpenAPI document without a token', async () => {
    assert.deepEqual(
      (await call('GET', '/functions')).body.functions.map((f: { name: string }) => f.name),
      ['double', 'echo', 'slow', 'sum'],
    );
    const doc = await call('GET', '/openapi.json', undefined, {});
    assert.equal(doc.status, 200);
    assert.ok(doc.body.openapi.startsWith('3.'));
    for (const path of [
      '/jobs',
      '/jobs/bulk',
      '/invoke',
      '/jobs/{jobId}',
      '/jobs/{jobId}/cancel',
      '/runs',
      '/runs/{runId}',
      '/runs/{runId}/results',
      '/functions',
    ]) {
      assert.ok(doc.body.paths[path], `${path} is missing from the OpenAPI document`);
    }
  });

  describe('bad input: 4xx with a code, never a 5xx', () => {
    it('missing or wrong token', async () => {
      await expectError(401, ErrorCodes.UNAUTHORIZED, /needs a bearer token/, 'GET', '/functions', undefined, {});
      await expectError(401, ErrorCodes.UNAUTHORIZED, /token is wrong/, 'GET', '/functions', undefined, { authorization: 'Bearer nope' });
    });
    it('malformed JSON and a body that is not JSON', async () => {
      const broken = await app.inject({ method: 'POST', url: '/jobs', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"fn": "echo",' });
      assert.equal(broken.statusCode, 400);
      assert.equal(broken.json().error.code, ErrorCodes.BAD_REQUEST);
      // JSON's own account of what is wrong, not just that something is.
      assert.match(broken.json().error.message, /not valid JSON \(.*JSON/);
      const post = (payload: string) => app.inject({ method: 'POST', url: '/jobs', headers: { ...auth, 'content-type': 'application/json' }, payload });
      const empty = await post('');
      assert.equal(empty.statusCode, 400);
      assert.match(empty.json().error.message, /body is empty/);
      // Valid JSON, refused for what it could do to a process that merges it.
      for (const poisoned of ['{"fn":"echo","input":{"__proto__":{"admin":true}}}', '{"fn":"echo","input":{"constructor":{"prototype":{"admin":true}}}}']) {
        const refused = await post(poisoned);
        assert.equal(refused.statusCode, 400, poisoned);
        assert.equal(refused.json().error.code, ErrorCodes.BAD_REQUEST);
        assert.match(refused.json().error.message, /"__proto__" key, or a "constructor" key holding "prototype"/);
      }
      assert.equal(({} as Record<string, unknown>).admin, undefined);
      const text = await app.inject({ method: 'POST', url: '/jobs', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<fn>echo</fn>' });
      assert.equal(text.statusCode, 415);
      assert.equal(text.json().error.code, ErrorCodes.BAD_REQUEST);
    });
    it('wrong types, missing and unknown fields', async () => {
      await expectError(400, ErrorCodes.BAD_REQUEST, /body\.fn must be string/, 'POST', '/jobs', { fn: 12 });
      await expectError(400, ErrorCodes.BAD_REQUEST, /body lacks the required field "fn"/, 'POST', '/jobs', { input: 1 });
      await expectError(400, ErrorCodes.BAD_REQUEST, /body has an unknown field "fnn"/, 'POST', '/jobs', { fn: 'echo', fnn: 1 });
      await expectError(400, ErrorCodes.BAD_REQUEST, /body\.chunkSize must be >= 1/, 'POST', '/runs', { fn: 'echo', inputs: [1], chunkSize: 0 });
      await expectError(400, ErrorCodes.BAD_REQUEST, /body\.chunkSize must be integer/, 'POST', '/runs', { fn: 'echo', inputs: [1], chunkSize: '5' });
      await expectError(400, ErrorCodes.BAD_REQUEST, /querystring\.ordered must be equal to one of/, 'GET', '/runs/abc/results?ordered=yes');
    });
    it('unknown function, invalid names, unknown ids and routes', async () => {
      await expectError(404, ErrorCodes.UNKNOWN_FUNCTION, /No function "nope" is deployed/, 'POST', '/invoke', { fn: 'nope' });
      await expectError(400, ErrorCodes.INVALID_FUNCTION_NAME, /not a valid function name/, 'POST', '/jobs', { fn: 'a/b' });
      await expectError(400, ErrorCodes.INVALID_OPTION, /options\.jobId must be a job id/, 'POST', '/jobs', { fn: 'echo', options: { jobId: 'x:y' } });
      await expectError(404, ErrorCodes.JOB_NOT_FOUND, /No job nope/, 'GET', '/jobs/nope');
      await expectError(400, ErrorCodes.INVALID_OPTION, /jobId must be a job id/, 'GET', '/jobs/a%20b');
      await expectError(404, ErrorCodes.RUN_NOT_FOUND, /No run nope/, 'GET', '/runs/nope');
      await expectError(404, ErrorCodes.ROUTE_NOT_FOUND, /No route GET \/nope/, 'GET', '/nope');
    });
    it('oversized body', async () => {
      await expectError(413, ErrorCodes.BODY_TOO_LARGE, /larger than 10000 bytes/, 'POST', '/jobs/bulk', {
        fn: 'echo',
        inputs: Array.from({ length: 5_000 }, (_, n) => n),
      });
    });
  });

  describe('startApi', () => {
    it('listens for real and answers over HTTP', async () => {
      const config = loadConfig({ 'redis.url': REDIS_URL, 'redis.prefix': stack.prefix, 'api.port': 0, 'api.token': TOKEN, 'log.level': 'warn' }, '');
      const api = await startApi(config, pino({ level: 'warn' }));
      try {
        const response = await fetch(`${api.url}/invoke`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ fn: 'double', input: { n: 4 } }),
        });
        assert.equal(response.status, 200);
        assert.deepEqual(((await response.json()) as { value: unknown }).value, { n: 8 });
      } finally {
        await api.close();
      }
    });
    it('lets a client still writing an upload over the body limit read its 413', async () => {
      const config = loadConfig(
        { 'redis.url': REDIS_URL, 'redis.prefix': stack.prefix, 'api.port': 0, 'api.token': TOKEN, 'api.bodyLimitBytes': 10_000, 'log.level': 'warn' },
        '',
      );
      const api = await startApi(config, pino({ level: 'warn' }));
      try {
        const answers = await oversizedUploads(`${api.url}/jobs/bulk`, 20);
        assert.deepEqual(
          answers.filter((a) => a !== `413 ${ErrorCodes.BODY_TOO_LARGE}`),
          [],
          `of ${answers.length} uploads`,
        );
        assert.equal(answers.length, 40);
      } finally {
        await api.close();
      }
    });
    it('cuts an endless upload over the body limit 5 s after its 413', async () => {
      const config = loadConfig(
        { 'redis.url': REDIS_URL, 'redis.prefix': stack.prefix, 'api.port': 0, 'api.token': TOKEN, 'api.bodyLimitBytes': 10_000, 'log.level': 'warn' },
        '',
      );
      const api = await startApi(config, pino({ level: 'warn' }));
      const { port } = new URL(api.url);
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      let answeredAt = 0;
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        answer += chunk;
        answeredAt ||= Date.now();
      });
      socket.on('error', () => undefined); // writes after the cut fail; the close is what is checked
      try {
        socket.write(
          `POST /jobs/bulk HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        const chunk = `4000\r\n${' '.repeat(0x4000)}\r\n`;
        const writer = setInterval(() => socket.writable && socket.write(chunk), 20);
        // Not events.once: it rejects on the 'error' a reset brings, and a reset is one way of being cut.
        await new Promise((resolve) => socket.once('close', resolve));
        clearInterval(writer);
        assert.match(answer, /^HTTP\/1\.1 413 /);
        assert.match(answer, /PHOTONS_ERR_BODY_TOO_LARGE/);
        const lingered = Date.now() - answeredAt;
        // Cut at all (the close above) and not before the client could read its answer.
        assert.ok(lingered >= 4_500, `closed ${lingered} ms after the answer`);
      } finally {
        socket.destroy();
        await api.close();
      }
    });
    it('refuses a non-loopback host without a token', async () => {
      const config = loadConfig({ 'redis.url': REDIS_URL, 'redis.prefix': stack.prefix, 'api.host': '0.0.0.0', 'api.port': 0 }, '');
      await assert.rejects(startApi(config, pino({ level: 'silent' })), (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCodes.CONFIG);
        assert.match(err.message, /Refusing to serve the API on 0\.0\.0\.0 without a token/);
        return true;
      });
    });
  });
});

/**
 * A client in a process of its own (as real clients are: in one event loop with the server, the
 * race does not show) POSTs 2 MB bodies, with a length and chunked, streamed a chunk per turn of
 * its loop without waiting for an early answer, and asking to close after each request. It prints
 * the answers: a status, or the socket error that hid it.
 */
async function oversizedUploads(url: string, rounds: number): Promise<string[]> {
  const client = `
    const { request } = require('node:http');
    const body = Buffer.from(JSON.stringify({ fn: 'echo', inputs: Array.from({ length: 200000 }, (_, n) => n) }));
    const upload = (chunked) => new Promise((resolve) => {
      const headers = { authorization: ${JSON.stringify(auth.authorization)}, 'content-type': 'application/json' };
      if (!chunked) headers['content-length'] = body.length;
      const outgoing = request(${JSON.stringify(url)}, { method: 'POST', headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(res.statusCode + ' ' + JSON.parse(text).error.code));
      });
      outgoing.on('error', (err) => resolve(err.code || err.message));
      (async () => {
        for (let at = 0; at < body.length && !outgoing.destroyed; at += 16384) {
          outgoing.write(body.subarray(at, at + 16384));
          await new Promise((next) => setImmediate(next));
        }
        if (!outgoing.destroyed) outgoing.end();
      })();
    });
    (async () => {
      const answers = [];
      for (let round = 0; round < ${rounds}; round++) for (const chunked of [false, true]) answers.push(await upload(chunked));
      console.log(JSON.stringify(answers));
    })();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', client], { timeout: 60_000 });
  return JSON.parse(stdout) as string[];
}
