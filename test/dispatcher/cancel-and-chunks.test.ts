// Two parts of the queue protocol beyond plain BullMQ (contract/wire.ts): cancel requests published
// on Redis reach the running handler, and chunk jobs run each item as its own photon.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { photonsKey } from '../../contract/keys';
import { CANCEL_CHANNEL } from '../../contract/channels';
import { CHUNK_JOB_NAME, type CancelRequest, type ChunkResult } from '../../contract/wire';
import { TestBed, jobsById, until } from './helpers';

describe('dispatcher: cancel requests', function () {
  this.timeout(30_000);
  let bed: TestBed;
  let dir: string;

  beforeEach(async () => {
    bed = new TestBed();
    dir = await mkdtemp(path.join(tmpdir(), 'photons-cancel-'));
  });

  afterEach(async () => {
    await bed.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('aborts the running job named on the cancel channel: its signal fires, it fails with PHOTONS_ERR_CANCELLED, not retried', async () => {
    // Two dispatchers: the request reaches both, only the one holding the job acts on it.
    await bed.dispatcher();
    await bed.dispatcher();
    const tracker = await bed.tracker('cancellable');
    const events = await bed.events('cancellable');
    const running = new Set<string>();
    events.on('progress', ({ jobId }) => running.add(jobId));

    const queue = bed.queue('cancellable');
    const [a, b] = await queue.addBulk(['a', 'b'].map((name) => ({ name, data: { marker: path.join(dir, name) }, opts: { attempts: 3 } })));
    // Cancel once the handlers run (they report progress): the signal must reach a running photon.
    await until('both handlers to run', () => running.has(a!.id!) && running.has(b!.id!), 15_000);

    const request: CancelRequest = { fn: 'cancellable', jobId: a!.id! };
    await bed.redis.publish(photonsKey(bed.prefix, CANCEL_CHANNEL), JSON.stringify(request));
    const { failed } = await tracker.wait([a!.id!], 10_000);
    assert.match(failed.get(a!.id!)!, /^PHOTONS_ERR_CANCELLED: /);
    assert.match(await readFile(path.join(dir, 'a'), 'utf8'), /cancelled/, 'the handler saw its ctx.signal fire');
    const [stored] = await jobsById(queue, [a!.id!]);
    assert.equal(stored!.attemptsMade, 1, 'a cancelled job is not retried');

    // The other job was not touched.
    assert.equal(await queue.getJobState(b!.id!), 'active');
    await assert.rejects(readFile(path.join(dir, 'b')), { code: 'ENOENT' });
    await bed.redis.publish(photonsKey(bed.prefix, CANCEL_CHANNEL), JSON.stringify({ fn: 'cancellable', jobId: b!.id! }));
    await tracker.wait([b!.id!], 10_000);
  });

  it('aborts every running item of a chunk job named on the cancel channel', async () => {
    const dispatcher = await bed.dispatcher();
    const tracker = await bed.tracker('cancellable');
    const markers = ['x', 'y', 'z'].map((name) => path.join(dir, name));
    const job = await bed.queue('cancellable').add(CHUNK_JOB_NAME, { items: markers.map((marker) => ({ marker })) });
    const inFlight = (): number => dispatcher.stats().functions.find((f) => f.fn === 'cancellable')?.photonsInFlight ?? 0;
    await until("the chunk's items to run", () => inFlight() === 3, 15_000);
    await bed.redis.publish(photonsKey(bed.prefix, CANCEL_CHANNEL), JSON.stringify({ fn: 'cancellable', jobId: job.id! } satisfies CancelRequest));
    const { completed } = await tracker.wait([job.id!], 10_000);
    const result = completed.get(job.id!) as ChunkResult;
    assert.deepEqual(
      result.items.map((outcome) => (outcome.ok ? 'ok' : outcome.error.code)),
      ['PHOTONS_ERR_CANCELLED', 'PHOTONS_ERR_CANCELLED', 'PHOTONS_ERR_CANCELLED'],
    );
    for (const marker of markers) assert.match(await readFile(marker, 'utf8'), /cancelled/, 'each item saw its ctx.signal fire');
  });
});

describe('dispatcher: chunk jobs', function () {
  this.timeout(30_000);
  let bed: TestBed;

  before(async () => {
    bed = new TestBed();
    await bed.dispatcher();
  });

  after(() => bed.cleanup());

  it('returns one outcome per item, each item run in a fresh photon, a failing item harming none', async () => {
    const tracker = await bed.tracker('chunked');
    const items = [{ n: 1 }, { n: 2, fail: true }, { n: 3 }, { n: 4 }, { n: 5 }];
    const job = await bed.queue('chunked').add(CHUNK_JOB_NAME, { items });
    const { completed, failed } = await tracker.wait([job.id!], 15_000);
    assert.equal(failed.get(job.id!), undefined);
    const result = completed.get(job.id!) as ChunkResult;
    assert.equal(result.items.length, items.length);
    result.items.forEach((outcome, i) => {
      const { n } = items[i]!;
      if (n === 2) {
        assert.equal(outcome.ok, false);
        assert.deepEqual(outcome.ok ? undefined : [outcome.error.code, outcome.error.message], ['PHOTONS_ERR_HANDLER', 'chunked: item 2 failed on purpose']);
      } else {
        // `seen` counts items in the module instance: 1 means the item had the module to itself.
        assert.deepEqual(outcome, { ok: true, value: { triple: 3 * n, seen: 1 } }, `item ${i}`);
      }
    });
  });

  it('times out only the items still running at the timeout; the others keep their results', async () => {
    const tracker = await bed.tracker('sleepy');
    const job = await bed.queue('sleepy').add(CHUNK_JOB_NAME, { items: [{ ms: 10 }, { ms: 5_000 }, { ms: 20 }] });
    const { completed } = await tracker.wait([job.id!], 15_000);
    const [first, slow, last] = (completed.get(job.id!) as ChunkResult).items;
    assert.deepEqual(first, { ok: true, value: { slept: 10 } });
    assert.deepEqual(last, { ok: true, value: { slept: 20 } });
    assert.equal(slow!.ok, false);
    assert.match(slow!.ok ? '' : `${slow!.error.code}: ${slow!.error.message}`, new RegExp(`^PHOTONS_ERR_TIMEOUT: .*timeout of 300 ms \\(job ${job.id}#1\\)`));
  });

  it('fails a chunk job without an items array as PHOTONS_ERR_BAD_JOB, without retry', async () => {
    const tracker = await bed.tracker('chunked');
    const job = await bed.queue('chunked').add(CHUNK_JOB_NAME, { n: 1 }, { attempts: 3 });
    const { failed } = await tracker.wait([job.id!], 15_000);
    assert.match(failed.get(job.id!)!, /^PHOTONS_ERR_BAD_JOB: .*has no items array/);
    const [stored] = await jobsById(bed.queue('chunked'), [job.id!]);
    assert.equal(stored!.attemptsMade, 1);
  });

  it('completes a chunk job with an empty items array at once, with no outcomes', async () => {
    const tracker = await bed.tracker('chunked');
    const job = await bed.queue('chunked').add(CHUNK_JOB_NAME, { items: [] });
    const { completed } = await tracker.wait([job.id!], 15_000);
    assert.deepEqual(completed.get(job.id!), { items: [] });
  });

  it("runs a chunk larger than a runtime's photon slots in parts, never over the slots, outcomes in input order", async () => {
    const slotted = new TestBed();
    try {
      await slotted.dispatcher({ 'runtime.photonsPerRuntime': 4 });
      const tracker = await slotted.tracker('crowded');
      const items = Array.from({ length: 30 }, (_, n) => ({ n }));
      const job = await slotted.queue('crowded').add(CHUNK_JOB_NAME, { items });
      const { completed } = await tracker.wait([job.id!], 15_000);
      const result = completed.get(job.id!) as ChunkResult;
      assert.deepEqual(
        result.items.map((outcome) => (outcome.ok ? (outcome.value as { n: number }).n : outcome.error.message)),
        items.map(({ n }) => n),
      );
      const peaks = result.items.map((outcome) => (outcome.ok ? (outcome.value as { peak: number }).peak : 0));
      assert.ok(Math.max(...peaks) <= 4, `photons held at once by a runtime: ${Math.max(...peaks)}`);
      assert.equal(Math.max(...peaks), 4, 'the runtimes were filled');
    } finally {
      await slotted.cleanup();
    }
  });
});
