// GET /runs/{id}/results costs Redis work only while its client reads: a client that hangs up stops
// the reading at once, even while the run's jobs are still running. POST /runs is bounded per
// process by api.maxRuns. Redis work is counted with INFO commandstats (results are read by HMGET).
import { strict as assert } from 'node:assert';
import { PhotonsClient } from '../../producer/client';
import { API_TOKEN, HeldJobs, until } from '../monitoring/helpers';

const bearer = { authorization: `Bearer ${API_TOKEN}` };

describe('result streams and map runs of the API', function () {
  this.timeout(60_000);
  const held = new HeldJobs();
  let url: string;
  let client: PhotonsClient;

  before(async () => {
    await held.start();
    url = (await held.startApi({ 'api.maxRuns': 2 })).url;
    client = new PhotonsClient({ redisUrl: held.bed.url, prefix: held.bed.prefix });
  });

  after(async () => {
    await client?.close();
    // Keep-alive connections of the aborted fetches stay open on the client's side; without this
    // the server's close would wait for them.
    held.api?.app.server.closeAllConnections();
    await held.cleanup();
  });

  async function hmgets(): Promise<number> {
    const info = await held.bed.redis.info('commandstats');
    return Number(/cmdstat_hmget:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  async function hmgetsDuring(ms: number): Promise<number> {
    const before = await hmgets();
    await new Promise((resolve) => setTimeout(resolve, ms));
    return (await hmgets()) - before;
  }

  it('stops reading Redis for streams whose clients hung up', async () => {
    const ITEMS = 50;
    const gate = held.gate();
    const run = await client.map(
      'held',
      Array.from({ length: ITEMS }, () => ({ gate })),
    );
    await until('the run to be recorded as enqueued', async () => {
      const progress = (await (await fetch(`${url}/runs/${run.id}`, { headers: bearer })).json()) as { state: string };
      return progress.state === 'enqueued';
    });
    // The run goes on in Redis; this process stops reading it, so the API's streams are the only readers.
    await run.detach();
    const idle = await hmgetsDuring(2_500);

    const clients = Array.from({ length: 5 }, () => new AbortController());
    const responses = await Promise.all(clients.map((c) => fetch(`${url}/runs/${run.id}/results`, { headers: bearer, signal: c.signal })));
    for (const response of responses) assert.equal(response.status, 200);
    // Each stream reads every pending job at least once a second.
    const reading = await hmgetsDuring(2_500);
    assert.ok(reading >= 5 * ITEMS, `the open streams read the run (${reading} HMGET in 2.5 s)`);

    for (const c of clients) c.abort();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const left = await hmgetsDuring(2_500);
    assert.ok(left <= idle + ITEMS / 2, `the streams stopped reading when their clients left (${left} HMGET in 2.5 s, ${idle} with nobody reading)`);

    // The run itself is untouched: released, its results are all there for the next reader.
    await held.release(gate);
    const again = await fetch(`${url}/runs/${run.id}/results`, { headers: bearer });
    const lines = (await again.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ok: boolean });
    assert.equal(lines.length, ITEMS);
    assert.ok(lines.every((line) => line.ok));
  });

  it('answers 429 with PHOTONS_ERR_TOO_MANY_RUNS past api.maxRuns, and takes runs again once one ends', async () => {
    const gate = held.gate();
    const start = (): Promise<Response> =>
      fetch(`${url}/runs`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ fn: 'held', inputs: [{ gate }] }),
      });
    assert.equal((await start()).status, 202);
    assert.equal((await start()).status, 202);
    const refused = await start();
    assert.equal(refused.status, 429);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'PHOTONS_ERR_TOO_MANY_RUNS');
    assert.match(error.message, /api\.maxRuns/);

    await held.release(gate);
    const later = await until(
      'a run to be taken again',
      async () => {
        const response = await start();
        return response.status === 202 ? response : undefined;
      },
      15_000,
      100,
    );
    assert.equal(later.status, 202);
  });
});
