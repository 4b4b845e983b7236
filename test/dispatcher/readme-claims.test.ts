// README claims about the dispatcher that no other test covered: a deployed version wins over a
// local file of the same name; a runtime that crashes hands its jobs back; exponential backoff; the
// dispatcher's own Prometheus /metrics.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { deployBundle } from '../../dispatcher/deployments';
import { freePort } from '../../dispatcher/redis-server';
import { bundleFunction } from '../../photon-worker/bundle';
import { PhotonsClient } from '../../producer/client';
import { REPO_ROOT, TestBed, until } from './helpers';

const CLAIMS = path.join(REPO_ROOT, 'test', 'fixtures', 'readme-claims');

describe('dispatcher: README claims', function () {
  this.timeout(90_000);
  let bed: TestBed;
  let scratch: string;
  beforeEach(() => {
    bed = new TestBed();
    scratch = mkdtempSync(path.join(tmpdir(), 'photons-claims-'));
  });
  afterEach(async () => {
    await bed.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a deployed version wins over a local file of the same name, on a dispatcher started before or after the deploy', async () => {
    const client = new PhotonsClient({ redisUrl: bed.url, prefix: bed.prefix });
    try {
      await bed.dispatcher({ functionsDir: CLAIMS });
      assert.deepEqual(await client.invoke('versioned', {}, { timeoutMs: 20_000 }), { from: 'local file' });
      const deployed = path.join(scratch, 'versioned.ts');
      writeFileSync(deployed, "export default async function () { return { from: 'deploy' }; }\n");
      await deployBundle(bed.redis, bed.prefix, await bundleFunction(deployed));
      await until(
        'the running dispatcher to take the deployed version',
        async () => {
          const value = (await client.invoke('versioned', {}, { timeoutMs: 20_000 })) as { from: string };
          return value.from === 'deploy' || undefined;
        },
        30_000,
        200,
      );
      // A dispatcher that starts with the local file finds the deployed version there already.
      const later = new TestBed(bed.url);
      const laterClient = new PhotonsClient({ redisUrl: bed.url, prefix: later.prefix });
      try {
        await deployBundle(later.redis, later.prefix, await bundleFunction(deployed));
        await later.dispatcher({ functionsDir: CLAIMS });
        assert.deepEqual(await laterClient.invoke('versioned', {}, { timeoutMs: 20_000 }), { from: 'deploy' });
      } finally {
        await laterClient.close();
        await later.cleanup();
      }
    } finally {
      await client.close();
    }
  });

  it('a runtime that ends its thread (process.exit) hands its jobs back: the others complete on their first attempt, the crasher fails as poison', async () => {
    await bed.dispatcher({ functionsDir: CLAIMS });
    const queue = bed.queue('exits');
    const tracker = await bed.tracker('exits');
    const innocent = await queue.addBulk([0, 1, 2, 3].map((n) => ({ name: 'exits', data: { ms: 1_500, n }, opts: { attempts: 3 } })));
    const crasher = await queue.add('exits', { ms: 300, n: 9, exit: true }, { attempts: 3 });
    const { completed, failed } = await tracker.wait(
      [...innocent, crasher].map((job) => job.id!),
      60_000,
    );
    innocent.forEach((job, n) => assert.deepEqual(completed.get(job.id!), { n, attempt: 1 }, `job ${job.id}: ${failed.get(job.id!) ?? ''}`));
    assert.match(failed.get(crasher.id!) ?? 'completed', /PHOTONS_ERR_POISON/);
  });

  it('exponential backoff: the wait before each attempt doubles', async () => {
    await bed.dispatcher({ functionsDir: CLAIMS });
    const record = path.join(scratch, 'attempts.jsonl');
    const tracker = await bed.tracker('attempts');
    const DELAY = 400;
    const job = await bed.queue('attempts').add('attempts', { record, failUntil: 4 }, { attempts: 4, backoff: { type: 'exponential', delay: DELAY } });
    const { completed } = await tracker.wait([job.id!], 60_000);
    assert.deepEqual(completed.get(job.id!), { attempt: 4 });
    const starts = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { attempt: number; at: number });
    assert.deepEqual(
      starts.map((s) => s.attempt),
      [1, 2, 3, 4],
    );
    const gaps = starts.slice(1).map((s, i) => s.at - starts[i]!.at);
    // BullMQ waits DELAY × 2^(retry - 1) at least: 400, 800 and 1600 ms. A fixed backoff of 400 ms
    // would start the third and fourth attempts far sooner.
    gaps.forEach((gap, i) => assert.ok(gap >= DELAY * 2 ** i - 20, `gaps ${gaps.join(', ')} ms`));
  });

  it("serves the dispatcher's own Prometheus /metrics on dispatcher.metricsPort", async () => {
    const port = await freePort();
    await bed.dispatcher({ functionsDir: CLAIMS, 'dispatcher.metricsPort': port });
    const tracker = await bed.tracker('exits');
    const job = await bed.queue('exits').add('exits', { ms: 0, n: 1 });
    await tracker.wait([job.id!], 30_000);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^# HELP photons_/m);
    assert.match(text, /^# TYPE photons_\w+ (counter|gauge|histogram)$/m);
    assert.match(text, /^photons_\w+\{[^}]*fn="exits"[^}]*\} \d/m, text);
  });
});
