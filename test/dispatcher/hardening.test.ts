// What one bad job or one dead runtime must not do to the others: inputs and results that cannot
// travel fail alone, a dead runtime's temporary folders go with it, callers see no server paths.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { PhotonsClient } from '../../producer/client';
import { CHUNK_JOB_NAME, type ChunkResult } from '../../contract/wire';
import { REPO_ROOT, TestBed } from './helpers';

/** { a: { a: … 0 } }, `depth` levels deep. */
function nestedValue(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('dispatcher hardening', function () {
  this.timeout(60_000);
  let bed: TestBed;
  afterEach(async () => bed.cleanup());

  it('fails only the job whose input cannot reach its runtime; the rest of its batch answers', async () => {
    bed = new TestBed();
    const queue = bed.queue('nested');
    const tracker = await bed.tracker('nested');
    // Queued before the dispatcher starts, so they reach the runtime together, in one batch.
    const jobs = await queue.addBulk([
      ...Array.from({ length: 10 }, (_, n) => ({ name: 'job', data: { n }, opts: { jobId: `ok-${n}` } })),
      { name: 'job', data: nestedValue(3_500), opts: { jobId: 'deep' } },
    ]);
    await bed.dispatcher({ 'batch.lingerMs': 50 });
    const { completed, failed } = await tracker.wait(
      jobs.map((j) => j.id!),
      30_000,
    );
    for (let n = 0; n < 10; n++) assert.deepEqual(completed.get(`ok-${n}`), { n, depth: 0 }, failed.get(`ok-${n}`));
    assert.match(failed.get('deep') ?? '', /^PHOTONS_ERR_INPUT_NOT_JSON: The input of job deep /);
  });

  it('fails only the chunk item whose input cannot reach its runtime; the other items answer', async () => {
    bed = new TestBed();
    const tracker = await bed.tracker('nested');
    await bed.dispatcher();
    const job = await bed.queue('nested').add(CHUNK_JOB_NAME, { items: [{ n: 0 }, nestedValue(3_500), { n: 2 }] });
    const { completed } = await tracker.wait([job.id!], 30_000);
    const [first, deep, last] = (completed.get(job.id!) as ChunkResult).items;
    assert.deepEqual(first, { ok: true, value: { n: 0, depth: 0 } });
    assert.deepEqual(last, { ok: true, value: { n: 2, depth: 0 } });
    assert.equal(deep!.ok, false);
    assert.match(
      deep!.ok ? '' : `${deep!.error.code}: ${deep!.error.message}`,
      new RegExp(`^PHOTONS_ERR_INPUT_NOT_JSON: The input of item 1 of job ${job.id} `),
    );
  });

  it('fails only the job whose result cannot be encoded', async () => {
    bed = new TestBed();
    const queue = bed.queue('nested');
    const tracker = await bed.tracker('nested');
    const jobs = await queue.addBulk([
      ...Array.from({ length: 5 }, (_, n) => ({ name: 'job', data: { n }, opts: { jobId: `ok-${n}` } })),
      { name: 'job', data: { returnDepth: 20_000 }, opts: { jobId: 'deep-result' } },
      // Encodable in its runtime's thread, but deeper than the dispatcher's main thread can store.
      { name: 'job', data: { returnDepth: 5_000 }, opts: { jobId: 'deep-to-store' } },
    ]);
    // Building and encoding a deep value takes a while on a busy machine: not a blocked loop.
    await bed.dispatcher({ 'batch.lingerMs': 50, 'runtime.watchdogMs': 10_000 });
    const { completed, failed } = await tracker.wait(
      jobs.map((j) => j.id!),
      30_000,
    );
    for (let n = 0; n < 5; n++) assert.deepEqual(completed.get(`ok-${n}`), { n, depth: 0 }, failed.get(`ok-${n}`));
    assert.match(failed.get('deep-result') ?? '', /^PHOTONS_ERR_RESULT_NOT_JSON/);
    assert.match(failed.get('deep-to-store') ?? '', /^PHOTONS_ERR_RESULT_NOT_JSON: Function "nested" returned a value nested 5000 levels deep/);
  });

  it('removes the temporary folders of a runtime that crashed', async () => {
    bed = new TestBed();
    const scratch = mkdtempSync(path.join(tmpdir(), 'photons-hardening-'));
    try {
      const record = path.join(scratch, 'folders.txt');
      const queue = bed.queue('tmp-crash');
      const tracker = await bed.tracker('tmp-crash');
      await bed.dispatcher();
      await queue.add('job', { record }, { jobId: 'fine' });
      await queue.add('job', { record, crash: true }, { jobId: 'crash' });
      const { completed, failed } = await tracker.wait(['fine', 'crash'], 30_000);
      assert.deepEqual(completed.get('fine'), { ok: true });
      // Present at two runtime deaths (its own, twice): failed as poison.
      assert.match(failed.get('crash') ?? '', /^PHOTONS_ERR_POISON/);
      const folders = readFileSync(record, 'utf8').trim().split('\n');
      assert.ok(folders.length >= 3, folders.join('\n'));
      for (const folder of folders) assert.ok(!existsSync(folder), `${folder} is still there`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('removes, at start, the runtime folders a killed dispatcher process left behind', async () => {
    bed = new TestBed();
    const spawned = bed.spawn('dispatcher');
    await bed.serving(spawned.child.pid!);
    const tracker = await bed.tracker('arith');
    await bed.queue('arith').add('job', { a: 1, b: 2 }, { jobId: 'warm' });
    await tracker.wait(['warm'], 20_000);
    const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');
    const mine = (): string[] => readdirSync(tmpdir()).filter((e) => e.startsWith(`photons-runtime-${host}-${spawned.child.pid}-arith-`));
    assert.equal(mine().length, 1, 'the runtime has its folder');
    spawned.child.kill('SIGKILL');
    await spawned.exited;
    assert.equal(mine().length, 1, 'a killed process cannot remove it');
    await bed.dispatcher();
    assert.deepEqual(mine(), []);
  });

  it("shows callers a failed job's stack and message with paths relative to the functions folder", async () => {
    bed = new TestBed();
    await bed.dispatcher();
    const client = new PhotonsClient({ redisUrl: bed.url, prefix: bed.prefix });
    try {
      const { outcome } = await client.invokeSettled('fails-deep', {}, { timeoutMs: 20_000 });
      assert.ok(outcome && !outcome.ok, 'the job failed');
      const { message, stack } = outcome.error;
      assert.match(message, /not ok: fails-deep\.ts refused the input/);
      assert.match(stack ?? '', /at check \(fails-deep\.ts:3:\d+\)/);
      for (const text of [message, stack ?? '']) {
        assert.ok(!text.includes(REPO_ROOT), `an absolute path in: ${text}`);
        assert.doesNotMatch(text, /(^|[\s(])\/[^\s/]+\//m, `an absolute path in: ${text}`);
      }
    } finally {
      await client.close();
    }
  });

  it('fails the jobs of a function that does not bundle with a message free of server paths', async () => {
    bed = new TestBed();
    const functions = mkdtempSync(path.join(tmpdir(), 'photons-hardening-fns-'));
    try {
      writeFileSync(path.join(functions, 'broken.ts'), 'export default async function (input: unknown) {\n  return (;\n}\n');
      const tracker = await bed.tracker('broken');
      await bed.dispatcher({ functionsDir: functions });
      await bed.queue('broken').add('job', {}, { jobId: 'b1' });
      const { failed } = await tracker.wait(['b1'], 20_000);
      const reason = failed.get('b1') ?? '';
      assert.match(reason, /^PHOTONS_ERR_BUNDLE: Function "broken" \(broken\.ts\) does not bundle: .* at broken\.ts:2:\d+/);
      assert.ok(!reason.includes(functions), reason);
    } finally {
      rmSync(functions, { recursive: true, force: true });
    }
  });
});
