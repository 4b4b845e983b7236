// Prometheus /metrics against a running system: the API's view of the whole fleet and a
// dispatcher's own server, parsed and checked against the jobs this test ran and holds.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { serveMetrics } from '../../dispatcher/metrics-server';
import { API_TOKEN, HeldJobs } from './helpers';
import { parseMetrics, valueOf, type Sample } from './prometheus';

describe('monitoring: Prometheus /metrics', function () {
  this.timeout(60_000);
  const held = new HeldJobs();
  const COMPLETED = 3;
  const FAILED = 1;
  const HELD = 5;
  const fn = { fn: 'held' };

  before(async () => {
    await held.start();
    await held.startApi({ 'api.dashboardPublic': true });
    const open = held.gate();
    await held.release(open);
    const tracker = await held.bed.tracker('held');
    const ran = [...(await held.enqueue(COMPLETED, open)), ...(await held.enqueue(FAILED, open, { fail: true }))];
    await tracker.wait(
      ran.map((j) => j.id!),
      15_000,
    );
    await held.enqueue(HELD, held.gate());
    await held.fleetWhere(
      'the held jobs in the heartbeat, the others counted',
      (f) => f.photonsInFlight === HELD && f.photonsCompleted === COMPLETED && f.photonsFailed === FAILED,
    );
  });

  after(() => held.cleanup());

  async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
    const response = await fetch(url, { headers });
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await response.text());
  }

  it('reports the fleet without the token: jobs by status, runtimes, photons, cold starts, heap, queue counts', async () => {
    const samples = await scrape(`${held.api!.url}/metrics`);
    assert.equal(valueOf(samples, 'photons_jobs_total', { ...fn, status: 'completed' }), COMPLETED);
    assert.equal(valueOf(samples, 'photons_jobs_total', { ...fn, status: 'failed' }), FAILED);
    assert.equal(valueOf(samples, 'photons_photons_in_flight', fn), HELD);
    assert.ok(valueOf(samples, 'photons_runtimes', fn) >= 1);
    assert.ok(valueOf(samples, 'photons_cold_starts_total', fn) >= 1);
    assert.ok(valueOf(samples, 'photons_runtime_heap_bytes', fn) > 1_000_000, 'a runtime holds at least a megabyte of heap');
    assert.ok(valueOf(samples, 'photons_runtime_base_heap_bytes', fn) > 0);
    assert.equal(valueOf(samples, 'photons_runtime_deaths_total', fn), 0);
    assert.equal(valueOf(samples, 'photons_queue_jobs', { ...fn, state: 'active' }), HELD);
    assert.equal(valueOf(samples, 'photons_queue_jobs', { ...fn, state: 'waiting' }), 0);
    assert.equal(valueOf(samples, 'photons_queue_jobs', { ...fn, state: 'completed' }), COMPLETED);
    assert.equal(valueOf(samples, 'photons_queue_jobs', { ...fn, state: 'failed' }), FAILED);
    assert.equal(valueOf(samples, 'photons_dispatchers'), 1);
  });

  it('has the job-duration histogram of every answered job', async function () {
    const stats = held.dispatcher!.stats().functions.find((f) => f.fn === 'held');
    assert.equal(stats?.durations.count, COMPLETED + FAILED, 'the pool timed every answered job');
    const samples = await scrape(`${held.api!.url}/metrics`);
    const buckets = samples.filter((s) => s.name === 'photons_job_duration_seconds_bucket' && s.labels.fn === 'held');
    assert.equal(buckets.length, 15, 'fourteen bounds and +Inf');
    assert.equal(buckets.at(-1)!.labels.le, '+Inf');
    assert.ok(
      buckets.every((b, i) => i === 0 || b.value >= buckets[i - 1]!.value),
      'cumulative buckets',
    );
    assert.equal(buckets.at(-1)!.value, COMPLETED + FAILED);
    assert.equal(valueOf(samples, 'photons_job_duration_seconds_count', fn), COMPLETED + FAILED);
    assert.ok(valueOf(samples, 'photons_job_duration_seconds_sum', fn) > 0);
  });

  it("serves a dispatcher's own /metrics on a port: its runtimes, no queue counts", async () => {
    const server = await serveMetrics(0, () => held.dispatcher!.stats(), pino({ level: 'silent' }));
    try {
      const samples = await scrape(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(valueOf(samples, 'photons_photons_in_flight', fn), HELD);
      assert.equal(valueOf(samples, 'photons_jobs_total', { ...fn, status: 'completed' }), COMPLETED);
      assert.ok(valueOf(samples, 'photons_runtimes', fn) >= 1);
      assert.equal(samples.filter((s) => s.name === 'photons_queue_jobs').length, 0);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('needs the token when api.dashboardPublic is off', async () => {
    const closed = new HeldJobs();
    const api = await closed.startApi({ 'api.dashboardPublic': false });
    try {
      const refused = await fetch(`${api.url}/metrics`);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'PHOTONS_ERR_UNAUTHORIZED');
      assert.equal((await fetch(`${api.url}/dashboard/api/fleet`)).status, 401);
      const allowed = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      assert.equal(allowed.status, 200);
    } finally {
      await closed.cleanup();
    }
  });
});
