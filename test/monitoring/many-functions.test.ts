// A fleet of 1,000 functions, as two dispatchers' heartbeats lie in Redis (written the way
// dispatcher/presence.ts writes them), most of them idle: `photons status`, the dashboard and
// /metrics list the busy ones first, fold the idle ones, and stay small enough to read and scrape.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { emptyDurations, type DispatcherStats, type PoolStats } from '../../contract/heartbeat';
import { photonsKeys } from '../../contract/keys';
import { startApi, type RunningApi } from '../../producer/api/server';
import { TestBed } from '../dispatcher/helpers';
import { ensurePrograms } from '../tools';
import { PHOTONS_BIN, REDIS_URL } from './helpers';
import { parseMetrics, valueOf } from './prometheus';

const FUNCTIONS = 1_000;
/** fn0000 … fn0039 have runtimes and jobs in flight; the rest ran earlier and are idle now. */
const BUSY = 40;
/** One otherwise idle function with jobs waiting in its queue: it counts as busy. */
const WAITING_FN = 'fn0700';
const WAITING = 7;
const DISPATCHERS = 2;
const HEARTBEAT_MS = 60_000;
const CHROMIUM = '/usr/bin/chromium';

const name = (i: number): string => `fn${String(i).padStart(4, '0')}`;

/** One function's stats in one dispatcher's heartbeat: busy ones hold 3 photons in a runtime. */
function poolStats(i: number): PoolStats {
  const busy = i < BUSY;
  const durations = emptyDurations();
  durations.counts[2] = 5;
  durations.count = 5;
  durations.sum = 0.1;
  return {
    fn: name(i),
    mode: 'photon',
    runtimes: busy ? [{ id: 1, threadId: i + 1, state: 'ready', photons: 3, heapUsed: 6e6, heapPerPhoton: 3_000, baseHeap: 4e6, elu: 0.2, ageMs: 5_000 }] : [],
    photonsInFlight: busy ? 3 : 0,
    queued: 0,
    coldStarts: 1,
    runtimeDeaths: 0,
    completed: 5 + (busy ? i : 0),
    failed: 0,
    // Busier functions answered more in the last minute: fn0000 the most.
    answeredLastMinute: busy ? 60 * (BUSY - i) : 0,
    durations,
  };
}

async function writeFleet(bed: TestBed): Promise<void> {
  const keys = photonsKeys(bed.prefix);
  const now = Date.now();
  for (let d = 0; d < DISPATCHERS; d++) {
    const stats: DispatcherStats = {
      id: `host-${d}:${1000 + d}:abcdef`,
      host: `host-${d}`,
      pid: 1000 + d,
      version: '0.1.0',
      startedAt: now - 120_000,
      at: now,
      functions: Array.from({ length: FUNCTIONS }, (_, i) => poolStats(i)),
    };
    await bed.redis.set(keys.heartbeat(stats.id), JSON.stringify(stats), 'PX', 3 * HEARTBEAT_MS);
    await bed.redis.zadd(keys.dispatcherRoll, now + 3 * HEARTBEAT_MS, stats.id);
  }
  const registry = Object.fromEntries(
    Array.from({ length: FUNCTIONS }, (_, i) => [name(i), JSON.stringify({ file: `/srv/functions/${name(i)}.ts`, hash: 'h', deployed: false })]),
  );
  await bed.redis.hset(keys.functions, registry);
  await bed.queue(WAITING_FN).addBulk(Array.from({ length: WAITING }, (_, n) => ({ name: WAITING_FN, data: { n } })));
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

describe('monitoring: 1,000 functions', function () {
  this.timeout(120_000);
  const bed = new TestBed();
  let api: RunningApi;

  before(async () => {
    await writeFleet(bed);
    const config = bed.config({ 'api.port': 0, 'api.dashboardPublic': true, 'dispatcher.heartbeatMs': HEARTBEAT_MS });
    api = await startApi(config, pino({ level: 'silent' }));
  });

  after(async () => {
    await api?.close();
    await bed.cleanup();
  });

  function status(...args: string[]): Promise<Ran> {
    const env = {
      ...process.env,
      PHOTONS_REDIS_URL: REDIS_URL,
      PHOTONS_REDIS_PREFIX: bed.prefix,
      PHOTONS_HEARTBEAT_MS: String(HEARTBEAT_MS),
      PHOTONS_LOG_LEVEL: 'warn',
    };
    return new Promise((resolve) => {
      execFile(process.execPath, [PHOTONS_BIN, 'status', ...args], { env, timeout: 60_000, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** The function column of the status table, in order. */
  function listed(stdout: string): string[] {
    return stdout.split('\n').flatMap((line) => (/^fn\d{4}\b/.test(line) ? [line.split(/\s+/)[0]!] : []));
  }

  it('photons status lists the busy functions first and folds the idle ones into a count', async () => {
    const ran = await status();
    assert.equal(ran.code, 0, ran.stderr);
    const names = listed(ran.stdout);
    // The one with jobs waiting leads (most jobs in hand, 7 against 3 in flight), then by throughput.
    assert.deepEqual(names, [WAITING_FN, ...Array.from({ length: BUSY }, (_, i) => name(i))]);
    const idle = FUNCTIONS - BUSY - 1;
    assert.match(ran.stdout, new RegExp(`… and ${idle} idle functions .*photons status --all`));
    assert.ok(ran.stdout.split('\n').length < 80, `a screenful or two, not ${ran.stdout.split('\n').length} lines`);
  });

  it('photons status --all lists every function, busiest first', async () => {
    const ran = await status('--all');
    assert.equal(ran.code, 0, ran.stderr);
    const names = listed(ran.stdout);
    assert.equal(names.length, FUNCTIONS);
    assert.equal(names[0], WAITING_FN);
    assert.deepEqual(
      names.slice(BUSY + 1),
      Array.from({ length: FUNCTIONS - BUSY }, (_, i) => name(BUSY + i)).filter((n) => n !== WAITING_FN),
    );
    assert.doesNotMatch(ran.stdout, /idle functions/);
  });

  it('/metrics stays under 1 MB and still counts every function', async () => {
    const response = await fetch(`${api.url}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    const bytes = Buffer.byteLength(text);
    assert.ok(bytes < 2 ** 20, `/metrics is ${bytes} bytes for ${FUNCTIONS} functions`);
    const samples = parseMetrics(text);
    // Every function's jobs and cold starts stay countable: sums over fn labels must not lose the idle ones.
    const completed = samples.filter((s) => s.name === 'photons_jobs_total' && s.labels.status === 'completed').reduce((sum, s) => sum + s.value, 0);
    const expected = DISPATCHERS * Array.from({ length: FUNCTIONS }, (_, i) => poolStats(i).completed).reduce((a, b) => a + b, 0);
    assert.equal(completed, expected);
    assert.equal(valueOf(samples, 'photons_photons_in_flight', { fn: name(0) }), DISPATCHERS * 3);
    assert.equal(valueOf(samples, 'photons_queue_jobs', { fn: WAITING_FN, state: 'waiting' }), WAITING);
    assert.equal(valueOf(samples, 'photons_job_duration_seconds_count', { fn: name(0) }), DISPATCHERS * 5);
    assert.equal(valueOf(samples, 'photons_job_duration_seconds_count', { fn: WAITING_FN }), DISPATCHERS * 5);
    // An idle function's histogram waits for its next job; its counters do not.
    assert.equal(samples.filter((s) => s.name.startsWith('photons_job_duration_seconds') && s.labels.fn === name(BUSY)).length, 0);
    assert.equal(valueOf(samples, 'photons_cold_starts_total', { fn: name(BUSY) }), DISPATCHERS);
    assert.equal(valueOf(samples, 'photons_dispatchers'), DISPATCHERS);
  });

  it('the dashboard API sends the busy functions and the names of the idle ones; ?all=1 sends all', async () => {
    const folded = (await (await fetch(`${api.url}/dashboard/api/fleet`)).json()) as { functions: Array<{ fn: string }>; folded: string[] };
    assert.deepEqual(
      folded.functions.map((f) => f.fn),
      [WAITING_FN, ...Array.from({ length: BUSY }, (_, i) => name(i))],
    );
    assert.equal(folded.folded.length, FUNCTIONS - BUSY - 1);
    assert.equal(folded.folded[0], name(BUSY));
    const all = (await (await fetch(`${api.url}/dashboard/api/fleet?all=1`)).json()) as { functions: unknown[]; folded: string[] };
    assert.equal(all.functions.length, FUNCTIONS);
    assert.deepEqual(all.folded, []);
    const wrong = await fetch(`${api.url}/dashboard/api/fleet?all=yes`);
    assert.equal(wrong.status, 400);
    assert.match(JSON.stringify(await wrong.json()), /PHOTONS_ERR_/);
  });

  it('the dashboard in a browser shows the busy functions, a fold line, and all of them on request', async function () {
    const reason = ensurePrograms('chromium');
    if (reason || !existsSync(CHROMIUM)) {
      console.log(`    skipped: ${reason ?? `no Chromium at ${CHROMIUM}`}`);
      this.skip();
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(`${api.url}/dashboard`);
      await page.waitForSelector('#fold [data-folded]', { timeout: 30_000 });
      assert.equal(await page.locator('#fold [data-folded]').getAttribute('data-folded'), String(FUNCTIONS - BUSY - 1));
      assert.equal(await page.locator('section.fn').count(), BUSY + 1);
      assert.equal(await page.locator('section.fn').first().getAttribute('data-fn'), WAITING_FN);
      assert.equal(await page.locator('[data-total="Functions"] .value').textContent(), String(FUNCTIONS));
      await page.click('#fold-toggle');
      await page.waitForFunction(`document.querySelectorAll('section.fn').length === ${FUNCTIONS}`, undefined, { timeout: 30_000 });
      assert.equal(await page.locator('#fold [data-folded]').count(), 0);
    } finally {
      await browser.close();
    }
  });
});
