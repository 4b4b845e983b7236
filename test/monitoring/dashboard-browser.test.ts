// The dashboard in a real browser (headless Chromium driven by playwright-core) while jobs run:
// the Photons page shows the function, its runtimes and photons; the queue boards list its queue.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PhotonsClient } from '../../producer/client';
import { API_TOKEN, HeldJobs, REDIS_URL } from './helpers';
import { ensurePrograms } from '../tools';

const CHROMIUM = '/usr/bin/chromium';
/** No GPU, no sandbox (containers), and nothing that would reach out to the network. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('monitoring: the dashboard in a browser', function () {
  this.timeout(90_000);
  const held = new HeldJobs();
  const HELD = 6;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;
  let shots: string;

  before(async function () {
    const reason = ensurePrograms('chromium');
    if (reason || !existsSync(CHROMIUM)) {
      console.log(`    skipped: ${reason ?? `no Chromium at ${CHROMIUM}`}`);
      this.skip();
    }
    await held.start();
    url = (await held.startApi({ 'api.dashboardPublic': true })).url;
    const open = held.gate();
    await held.release(open);
    const tracker = await held.bed.tracker('held');
    const done = await held.enqueue(3, open);
    await tracker.wait(
      done.map((j) => j.id!),
      15_000,
    );
    await held.enqueue(HELD, held.gate());
    await held.fleetWhere('the held jobs in the heartbeat', (f) => f.photonsInFlight === HELD);
    shots = await mkdtemp(path.join(tmpdir(), 'photons-dashboard-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await held.cleanup();
  });

  it('shows the function with its runtimes, photons in flight and heap, and draws the history', async () => {
    const failedRequests: string[] = [];
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(`${url}/`)) elsewhere.push(request.url());
    });
    page.on('requestfailed', (request) => failedRequests.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${url}/dashboard`);
    const photons = page.locator('[data-fn="held"] [data-field="photons"] b');
    // Expressions as text: they run in the page, and this project compiles without the DOM types.
    await page.waitForFunction(`Number(document.querySelector('[data-fn="held"] [data-field="photons"] b')?.textContent) > 0`, undefined, { timeout: 15_000 });
    assert.equal(await photons.textContent(), String(HELD));
    const runtimes = Number(await page.locator('[data-fn="held"] [data-field="runtimes"] b').textContent());
    assert.ok(runtimes >= 1);
    assert.equal(await page.locator('[data-fn="held"] .runtime').count(), runtimes);
    assert.match((await page.locator('[data-fn="held"] .runtime').first().textContent()) ?? '', /\d+ photons?heap \d+\.\d MB/);
    // Memory saved needs a heap reading with the photons in flight above the runtime's base: a
    // heartbeat or two after they start.
    await page.waitForFunction(`/^\\d+\\.\\d MB$/.test(document.querySelector('[data-fn="held"] [data-field="saved"] b')?.textContent ?? '')`, undefined, {
      timeout: 15_000,
    });
    // A history of several polls: the photons-in-flight line of `held` has points at 3 or more
    // moments, each at HELD on the chart's own scale (its gridlines at 0 and at the top label).
    const xs = `(document.querySelector('#chart-photons polyline[data-fn="held"]')?.getAttribute('points') ?? '').trim().split(' ').filter(Boolean).map((p) => p.split(',')[0])`;
    await page.waitForFunction(`new Set(${xs}).size >= 3`, undefined, { timeout: 30_000 });
    const drawn = JSON.parse(
      String(
        await page.evaluate(`JSON.stringify({
      points: document.querySelector('#chart-photons polyline[data-fn="held"]').getAttribute('points'),
      gridlines: [...document.querySelectorAll('#chart-photons line')].map((l) => Number(l.getAttribute('y1'))),
      labels: [...document.querySelectorAll('#chart-photons text')].map((t) => t.textContent),
    })`),
      ),
    ) as { points: string; gridlines: number[]; labels: string[] };
    const [zeroY, , topY] = drawn.gridlines;
    const top = Number(drawn.labels[2]);
    const values = drawn.points
      .trim()
      .split(' ')
      .map((p) => (top * (zeroY! - Number(p.split(',')[1]))) / (zeroY! - topY!));
    assert.ok(values.length >= 3 && values.every((v) => Math.abs(v - HELD) < 0.1), `photons in flight drawn: ${values.join(', ')} (${JSON.stringify(drawn)})`);
    for (const chart of ['throughput', 'photons', 'cold-starts', 'saved']) {
      assert.equal(await page.locator(`#chart-${chart} polyline[data-fn="held"]`).count(), 1, `the ${chart} chart draws held`);
    }
    assert.match((await page.locator('#status').textContent()) ?? '', /read-only/);
    assert.equal(await page.locator('[data-dispatcher] .stale').count(), 0);
    const shot = path.join(shots, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`    screenshot: ${shot}`);
    assert.deepEqual(failedRequests, [], 'every request of the page succeeds');
    assert.deepEqual(elsewhere, [], 'the page fetches nothing from elsewhere');
  });

  it('lists a map run and links its picture, which the browser parses as SVG: a bar per item, failures marked', async () => {
    const client = new PhotonsClient({ redisUrl: REDIS_URL, prefix: held.bed.prefix });
    let runId: string;
    try {
      const open = held.gate();
      await held.release(open);
      const run = await client.map(
        'held',
        Array.from({ length: 8 }, (_, i) => ({ gate: open, fail: i % 4 === 3 })),
      );
      await run.finished();
      runId = run.id;
    } finally {
      await client.close();
    }
    await page.goto(`${url}/dashboard`);
    const link = page.locator(`#runs tr[data-run="${runId}"] a.run-picture`);
    await link.waitFor({ timeout: 15_000 });
    assert.match((await page.locator(`#runs tr[data-run="${runId}"]`).textContent()) ?? '', /held.*done.*8\/8.*2/);
    const href = await link.getAttribute('href');
    const response = await page.goto(`${url}${href}`);
    assert.equal(response!.status(), 200);
    assert.match((await response!.allHeaders())['content-type'] ?? '', /^image\/svg\+xml/);
    // Served as image/svg+xml, the page is the parsed XML document: a syntax error would be a parser-error page.
    const drawn = JSON.parse(
      String(
        await page.evaluate(`JSON.stringify({
      root: document.documentElement.tagName,
      errors: document.getElementsByTagName('parsererror').length,
      bars: document.querySelectorAll('rect.run').length,
      failures: document.querySelectorAll('circle.failure').length,
      bins: document.querySelectorAll('rect.bin').length,
      width: document.documentElement.getBoundingClientRect().width,
    })`),
      ),
    ) as { root: string; errors: number; bars: number; failures: number; bins: number; width: number };
    assert.deepEqual({ ...drawn, width: drawn.width > 0 }, { root: 'svg', errors: 0, bars: 8, failures: 2, bins: 30, width: true });
    await page.screenshot({ path: path.join(shots, 'run-timeline.png') });
    const unknown = await page.goto(`${url}/dashboard/runs/no-such-run/timeline.svg`);
    assert.equal(unknown!.status(), 404);
    assert.match(await unknown!.text(), /PHOTONS_ERR_RUN_NOT_FOUND/);
    console.log(`    screenshot: ${path.join(shots, 'run-timeline.png')}`);
  });

  it('lists each schedule with its next run, and says when no function sets limits', async () => {
    const put = await fetch(`${url}/schedules/yearly`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fn: 'held', cron: '0 0 1 1 *' }),
    });
    assert.equal(put.status, 200, await put.text());
    await page.goto(`${url}/dashboard`);
    const row = page.locator('[data-schedule="yearly"]');
    await row.waitFor({ timeout: 15_000 });
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual([cells[0], cells[1], cells[2], cells[4], cells[5]], ['yearly', 'held', 'cron 0 0 1 1 *', '-', '0']);
    assert.equal(new Date(cells[3]!).getMonth(), 0, `next run ${cells[3]} is in January`);
    assert.match((await page.locator('#limits tbody').textContent()) ?? '', /No function sets rateLimit or maxConcurrency/);
    const removed = await fetch(`${url}/schedules/yearly`, { method: 'DELETE', headers: { authorization: `Bearer ${API_TOKEN}` } });
    assert.equal(removed.status, 204);
  });

  it('lists the queue on the read-only board, whose policy keeps the browser off other sites', async () => {
    const response = await page.goto(`${url}/dashboard/queues`);
    assert.match((await response!.allHeaders())['content-security-policy'] ?? '', /default-src 'self'/);
    await page.getByText('held', { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(shots, 'queues-read-only.png'), fullPage: true });
  });

  it('signs in through the form and opens the board with actions', async () => {
    await page.goto(`${url}/dashboard/admin/queues`);
    assert.match(page.url(), /\/dashboard\/login\?next=/);
    await page.fill('input[name="token"]', API_TOKEN);
    await Promise.all([page.waitForURL(/\/dashboard\/admin\/queues$/), page.click('button[type="submit"]')]);
    await page.getByText('held', { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(shots, 'queues-signed-in.png'), fullPage: true });
  });
});
