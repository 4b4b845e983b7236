// Reading without the token, acting with it: the queue boards refuse retry and clean to anyone
// without api.token, and do them for a bearer header or the cookie the sign-in form sets.
import { strict as assert } from 'node:assert';
import { API_TOKEN, HeldJobs, until } from './helpers';

interface BoardQueues {
  queues: Array<{ name: string; readOnlyMode: boolean; counts: Record<string, number> }>;
}

describe('monitoring: read-only without the token, actions with it', function () {
  this.timeout(60_000);
  const held = new HeldJobs();
  const FAILED = 2;
  let url: string;

  const bearer = { authorization: `Bearer ${API_TOKEN}` };
  const failedCount = async (): Promise<number> => held.bed.queue('held').getFailedCount();

  before(async () => {
    await held.start();
    url = (await held.startApi({ 'api.dashboardPublic': true })).url;
  });

  // Every test starts from FAILED failed jobs whatever ran before it (a clean removes one), so each
  // runs alone (--grep) or in any order.
  beforeEach(async () => {
    const missing = FAILED - (await failedCount());
    if (missing <= 0) return;
    const open = held.gate();
    await held.release(open);
    const tracker = await held.bed.tracker('held');
    const failed = await held.enqueue(missing, open, { fail: true });
    await tracker.wait(
      failed.map((j) => j.id!),
      15_000,
    );
  });

  after(() => held.cleanup());

  it('serves the page, the fleet and the read-only board to anyone, and refuses its actions', async () => {
    assert.equal((await fetch(`${url}/dashboard`)).status, 200);
    const fleet = (await (await fetch(`${url}/dashboard/api/fleet`)).json()) as {
      functions: Array<{ fn: string }>;
      access: { tokenRequired: boolean; signedIn: boolean };
    };
    assert.deepEqual(
      fleet.functions.map((f) => f.fn),
      ['held'],
    );
    assert.deepEqual(fleet.access, { tokenRequired: true, signedIn: false });
    const board = (await (await fetch(`${url}/dashboard/queues/api/queues?activeQueue=held&status=failed`)).json()) as BoardQueues;
    assert.deepEqual(
      board.queues.map((q) => [q.name, q.readOnlyMode]),
      [['held', true]],
    );
    assert.equal(board.queues[0]!.counts.failed, FAILED);
    const retry = await fetch(`${url}/dashboard/queues/api/queues/held/retry/failed`, { method: 'PUT' });
    assert.equal(retry.status, 405, 'the read-only board refuses to retry');
    const clean = await fetch(`${url}/dashboard/queues/api/queues/held/clean/failed`, { method: 'PUT' });
    assert.equal(clean.status, 405);
    assert.equal(await failedCount(), FAILED);
    // The API routes themselves still need the token.
    assert.equal((await fetch(`${url}/functions`)).status, 401);
  });

  it('refuses the full board without the token: 401 for its API, the sign-in form for its page', async () => {
    const retry = await fetch(`${url}/dashboard/admin/queues/api/queues/held/retry/failed`, { method: 'PUT' });
    assert.equal(retry.status, 401);
    assert.equal(((await retry.json()) as { error: { code: string } }).error.code, 'PHOTONS_ERR_UNAUTHORIZED');
    const wrong = await fetch(`${url}/dashboard/admin/queues/api/queues/held/retry/failed`, { method: 'PUT', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const page = await fetch(`${url}/dashboard/admin/queues`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/dashboard/login?next=%2Fdashboard%2Fadmin%2Fqueues');
    assert.equal(await failedCount(), FAILED);
  });

  it('retries failed jobs with the bearer token', async () => {
    const board = (await (await fetch(`${url}/dashboard/admin/queues/api/queues?activeQueue=held&status=failed`, { headers: bearer })).json()) as BoardQueues;
    assert.deepEqual(
      board.queues.map((q) => [q.name, q.readOnlyMode]),
      [['held', false]],
    );
    const retry = await fetch(`${url}/dashboard/admin/queues/api/queues/held/retry/failed`, { method: 'PUT', headers: bearer });
    assert.equal(retry.status, 200, await retry.text());
    // Retried, they run again (and fail again: their input asks for it).
    await until(
      'the retried jobs to run and fail again',
      async () => (await held.bed.queue('held').getJobs(['failed'])).every((j) => j.attemptsMade >= 2) && (await failedCount()) === FAILED,
      15_000,
    );
  });

  it('signs in with the form (a cookie, not the token), cleans with it, and signs out', async () => {
    const refused = await fetch(`${url}/dashboard/login`, {
      method: 'POST',
      headers: { origin: url },
      body: new URLSearchParams({ token: 'nope' }),
      redirect: 'manual',
    });
    assert.equal(refused.status, 303);
    assert.match(refused.headers.get('location') ?? '', /^\/dashboard\/login\?failed=1/);
    assert.equal(refused.headers.get('set-cookie'), null);

    const signedIn = await fetch(`${url}/dashboard/login`, {
      method: 'POST',
      headers: { origin: url },
      body: new URLSearchParams({ token: API_TOKEN, next: 'https://elsewhere.example/' }),
      redirect: 'manual',
    });
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get('location'), '/dashboard/admin/queues', 'never sent to another site');
    const setCookie = signedIn.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^photons_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    assert.ok(!setCookie.includes(API_TOKEN));
    const cookie = { cookie: setCookie.split(';')[0]! };

    const fleet = (await (await fetch(`${url}/dashboard/api/fleet`, { headers: cookie })).json()) as { access: { signedIn: boolean } };
    assert.equal(fleet.access.signedIn, true);
    // One job by id: cleaning a whole state spares jobs younger than bull-board's 5 s grace.
    const [job] = await held.bed.queue('held').getJobs(['failed']);
    const withoutCookie = await fetch(`${url}/dashboard/admin/queues/api/queues/held/${job!.id}/clean`, { method: 'PUT' });
    assert.equal(withoutCookie.status, 401);
    const clean = await fetch(`${url}/dashboard/admin/queues/api/queues/held/${job!.id}/clean`, { method: 'PUT', headers: { ...cookie, origin: url } });
    assert.equal(clean.status, 204, await clean.text());
    assert.equal(await held.bed.queue('held').getJob(job!.id!), undefined, 'the job is gone');
    assert.equal(await failedCount(), FAILED - 1);
    // The cookie opens the dashboard only, not the job API.
    assert.equal((await fetch(`${url}/functions`, { headers: cookie })).status, 401);

    const out = await fetch(`${url}/dashboard/logout`, { method: 'POST', headers: { ...cookie, origin: url }, redirect: 'manual' });
    assert.match(out.headers.get('set-cookie') ?? '', /^photons_session=; .*Max-Age=0/);
  });
});
