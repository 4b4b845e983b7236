// Schedules over HTTP: PUT/GET/DELETE /schedules/{id}, pause and resume, in the OpenAPI document,
// behind the bearer token, and every bad body a 4xx with a PHOTONS_ERR_* code.
import { strict as assert } from 'node:assert';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../errors';
import { buildApi } from '../../producer/api/server';
import { startStack, type Stack } from './helpers';

const TOKEN = 'schedule-token';
const auth = { authorization: `Bearer ${TOKEN}` };
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

describe('schedules over HTTP', function () {
  let stack: Stack;
  let app: FastifyInstance;
  before(async () => {
    stack = await startStack();
    app = await buildApi({ client: stack.client, token: TOKEN });
  });
  after(async () => {
    await app?.close();
    await stack?.stop();
  });

  async function call(method: Method, url: string, body?: unknown, headers: Record<string, string> = auth) {
    const response = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.statusCode, body: (response.body ? response.json() : undefined) as Record<string, any> };
  }

  async function expectError(status: number, code: string, pattern: RegExp, method: Method, url: string, body?: unknown, headers?: Record<string, string>) {
    const answer = await call(method, url, body, headers);
    assert.equal(answer.status, status, JSON.stringify(answer.body).slice(0, 300));
    assert.equal(answer.body.error.code, code);
    assert.match(answer.body.error.message as string, pattern);
  }

  it('sets, lists, pauses, resumes and removes a schedule', async () => {
    const set = await call('PUT', '/schedules/nightly', { fn: 'echo', cron: '0 3 * * *', tz: 'Europe/Paris', input: { n: 1 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(
      { id: set.body.id, fn: set.body.fn, cron: set.body.cron, tz: set.body.tz, input: set.body.input, paused: set.body.paused, runs: set.body.runs },
      { id: 'nightly', fn: 'echo', cron: '0 3 * * *', tz: 'Europe/Paris', input: { n: 1 }, paused: false, runs: 0 },
    );
    // 03:00 in Paris is 01:00 or 02:00 UTC, at most a day away.
    assert.ok([1, 2].includes(new Date(set.body.nextRunAt as number).getUTCHours()), String(set.body.nextRunAt));
    assert.ok((set.body.nextRunAt as number) - Date.now() <= 86_400_000);
    assert.deepEqual(
      (await call('GET', '/schedules')).body.map((s: { id: string }) => s.id),
      ['nightly'],
    );
    assert.equal((await call('GET', '/schedules/nightly')).body.cron, '0 3 * * *');
    const paused = await call('POST', '/schedules/nightly/pause');
    assert.deepEqual([paused.status, paused.body.paused, paused.body.nextRunAt], [200, true, null]);
    const resumed = await call('POST', '/schedules/nightly/resume');
    assert.deepEqual([resumed.status, resumed.body.paused], [200, false]);
    assert.ok(resumed.body.nextRunAt > Date.now());
    assert.equal((await call('DELETE', '/schedules/nightly')).status, 204);
    await expectError(404, ErrorCodes.SCHEDULE_NOT_FOUND, /No schedule "nightly"/, 'GET', '/schedules/nightly');
    await expectError(404, ErrorCodes.SCHEDULE_NOT_FOUND, /No schedule "nightly"/, 'DELETE', '/schedules/nightly');
  });

  it('answers every bad request with a 4xx and a code', async () => {
    const put = (body: unknown, id = 'x') => ['PUT', `/schedules/${id}`, body] as const;
    await expectError(400, ErrorCodes.INVALID_SCHEDULE, /cron expression "nope" is invalid/, ...put({ fn: 'echo', cron: 'nope' }));
    await expectError(400, ErrorCodes.INVALID_SCHEDULE, /not both nor neither/, ...put({ fn: 'echo' }));
    await expectError(400, ErrorCodes.INVALID_SCHEDULE, /not both nor neither/, ...put({ fn: 'echo', every: 1000, cron: '* * * * *' }));
    await expectError(400, ErrorCodes.INVALID_SCHEDULE, /IANA time zone/, ...put({ fn: 'echo', cron: '* * * * *', tz: 'Nowhere/Land' }));
    await expectError(400, ErrorCodes.INVALID_SCHEDULE, /tz goes with cron only/, ...put({ fn: 'echo', every: 1000, tz: 'UTC' }));
    await expectError(400, ErrorCodes.BAD_REQUEST, /every/, ...put({ fn: 'echo', every: 10 }));
    await expectError(400, ErrorCodes.BAD_REQUEST, /every/, ...put({ fn: 'echo', every: '1000' }));
    await expectError(400, ErrorCodes.BAD_REQUEST, /additional|extra|unknown/i, ...put({ fn: 'echo', every: 1000, when: 'now' }));
    await expectError(400, ErrorCodes.INVALID_SCHEDULE, /not a valid schedule id/, ...put({ fn: 'echo', every: 1000 }, 'bad%3Aid'));
    await expectError(400, ErrorCodes.INVALID_FUNCTION_NAME, /not a valid function name/, ...put({ fn: 'no/pe', every: 1000 }));
    await expectError(404, ErrorCodes.UNKNOWN_FUNCTION, /nope/, ...put({ fn: 'nope', every: 1000 }));
    await expectError(404, ErrorCodes.SCHEDULE_NOT_FOUND, /No schedule/, 'POST', '/schedules/missing/pause');
    await expectError(401, ErrorCodes.UNAUTHORIZED, /bearer token/, 'GET', '/schedules', undefined, {});
    await expectError(401, ErrorCodes.UNAUTHORIZED, /bearer token/, ...put({ fn: 'echo', every: 1000 }), {});
    assert.deepEqual((await call('GET', '/schedules')).body, []);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await call('GET', '/openapi.json', undefined, {})).body;
    assert.deepEqual(Object.keys(doc.paths['/schedules/{id}']).sort(), ['delete', 'get', 'put']);
    assert.ok(doc.paths['/schedules'].get);
    assert.ok(doc.paths['/schedules/{id}/pause'].post);
    assert.ok(doc.paths['/schedules/{id}/resume'].post);
  });
});
