// Every example function, end to end: jobs added to its BullMQ queue in a real Redis, run by a
// dispatcher serving the repository's functions/ folder, results read back from Redis.
import { strict as assert } from 'node:assert';
import { createCipheriv, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FUNCTIONS_DIR, TestBed, jobsById } from './helpers';

interface HashOutput {
  sha256: string;
  sizeBytes: number;
}

interface ClassifyOutput {
  model: string;
  width: number;
  height: number;
  predictions: Array<{ className: string; probability: number }>;
}

interface TransformOutput {
  source: { width: number; height: number };
  width: number;
  height: number;
  format: string;
  bytes: number;
  sha256: string;
}

interface RestOutput {
  status: number;
  count: number;
  stats: Record<string, { count: number; sum: number; min: number; max: number; mean: number }>;
  items: Array<Record<string, unknown>>;
}

describe('dispatcher: the example functions through Redis', function () {
  // classify loads a CNN and transform scales a 1280×720 frame: seconds on a busy 2-core machine.
  this.timeout(90_000);
  let bed: TestBed;
  let server: Server;
  let base: string;

  before(async () => {
    bed = new TestBed();
    // The REST workload's remote API: /users/n answers n records whose ages depend on n.
    server = createServer((req, res) => {
      const match = /^\/users\/(\d+)$/.exec(req.url ?? '');
      if (!match) {
        res.writeHead(404).end();
        return;
      }
      const n = Number(match[1]);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.from({ length: n }, (_, i) => ({ name: `u${n}-${i}`, age: 20 + n + i }))));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // rest refuses loopback unless the operator allows it; the runtimes copy this environment.
    process.env.PHOTONS_REST_ALLOW_PRIVATE = '1';
    // The default watchdog: classify's first job decodes and compiles the model synchronously for
    // more than a second on this class of machine, which the tests' short watchdog would punish.
    await bed.dispatcher({ functionsDir: FUNCTIONS_DIR, 'runtime.watchdogMs': 10_000 });
  });

  after(async () => {
    delete process.env.PHOTONS_REST_ALLOW_PRIVATE;
    await bed.cleanup();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sleep: each job waits its own ms and says so', async () => {
    const tracker = await bed.tracker('sleep');
    const jobs = await bed.queue('sleep').addBulk([10, 40, 80].map((ms) => ({ name: 'sleep', data: { ms } })));
    const { completed } = await tracker.wait(
      jobs.map((j) => j.id!),
      20_000,
    );
    const done = await jobsById(
      bed.queue('sleep'),
      jobs.map((j) => j.id!),
    );
    [10, 40, 80].forEach((ms, i) => {
      assert.deepEqual(completed.get(jobs[i]!.id!), { sleptMs: ms });
      // It really waited: the job was active at least that long.
      assert.ok(done[i]!.finishedOn! - done[i]!.processedOn! >= ms - 1, `job ${i} finished too soon`);
    });
  });

  it('rest: each job summarises its own answer from a local JSON API', async () => {
    const tracker = await bed.tracker('rest');
    const sizes = [1, 3, 5];
    const jobs = await bed.queue('rest').addBulk(sizes.map((n) => ({ name: 'rest', data: { url: `${base}/users/${n}`, fields: ['name'], limit: 2 } })));
    const { completed, failed } = await tracker.wait(
      jobs.map((j) => j.id!),
      20_000,
    );
    assert.equal(failed.size, 0, [...failed.values()].join('\n'));
    sizes.forEach((n, i) => {
      const output = completed.get(jobs[i]!.id!) as RestOutput;
      const ages = Array.from({ length: n }, (_, k) => 20 + n + k);
      const sum = ages.reduce((a, b) => a + b, 0);
      assert.deepEqual(output, {
        status: 200,
        count: n,
        stats: { age: { count: n, sum, min: ages[0], max: ages[n - 1], mean: sum / n } },
        items: Array.from({ length: Math.min(2, n) }, (_, k) => ({ name: `u${n}-${k}` })),
      });
    });
  });

  it('hash: the known digest of the default 2 MiB blob, and of a small one', async () => {
    const tracker = await bed.tracker('hash');
    const jobs = await bed.queue('hash').addBulk([
      { name: 'hash', data: {} },
      { name: 'hash', data: { seed: 'abc', sizeBytes: 32 } },
    ]);
    const { completed } = await tracker.wait(
      jobs.map((j) => j.id!),
      20_000,
    );
    assert.deepEqual(completed.get(jobs[0]!.id!), {
      sha256: 'e59968a8d21d2c7d95a5fdf903c63168e46853730ecdaa91e355294a4198648d',
      sizeBytes: 2 * 1024 * 1024,
    });
    // 32 bytes of AES-256-CTR keystream: two counter blocks encrypted with ECB.
    const key = createHash('sha256').update('photons-hash:abc').digest();
    const counters = Buffer.alloc(32);
    counters.writeUInt32BE(1, 28);
    const keystream = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(counters);
    const small = completed.get(jobs[1]!.id!) as HashOutput;
    assert.deepEqual(small, { sha256: createHash('sha256').update(keystream).digest('hex'), sizeBytes: 32 });
  });

  it('classify: known MobileNetV2 predictions for two synthetic pictures', async () => {
    const tracker = await bed.tracker('classify');
    const jobs = await bed.queue('classify').addBulk([
      { name: 'classify', data: { seed: 0, topk: 2 } },
      { name: 'classify', data: { seed: 1, topk: 2 } },
    ]);
    const { completed, failed } = await tracker.wait(
      jobs.map((j) => j.id!),
      80_000,
    );
    assert.equal(failed.size, 0, [...failed.values()].join('\n'));
    // The same figures as test/functions/classify.test.ts (seeds 0 and 1).
    const expected: Array<Array<[string, number]>> = [
      [
        ['Drawing', 0.63123],
        ['Neutral', 0.345346],
      ],
      [
        ['Neutral', 0.907809],
        ['Drawing', 0.071837],
      ],
    ];
    jobs.forEach((job, i) => {
      const output = completed.get(job.id!) as ClassifyOutput;
      assert.equal(output.model, 'MobileNetV2');
      assert.deepEqual([output.width, output.height], [224, 224]);
      assert.deepEqual(
        output.predictions.map((p) => p.className),
        expected[i]!.map(([name]) => name),
      );
      output.predictions.forEach((p, k) => assert.ok(Math.abs(p.probability - expected[i]![k]![1]) < 1e-4, `seed ${i}: ${p.className} ${p.probability}`));
    });
  });

  it('transform: the known 640×480 PNG of the default frame', async () => {
    const tracker = await bed.tracker('transform');
    const job = await bed.queue('transform').add('transform', {});
    const { completed, failed } = await tracker.wait([job.id!], 60_000);
    assert.equal(failed.size, 0, [...failed.values()].join('\n'));
    const output = completed.get(job.id!) as TransformOutput;
    assert.deepEqual(output, {
      source: { width: 1280, height: 720 },
      width: 640,
      height: 480,
      format: 'png',
      bytes: 476192,
      sha256: '88026f7f5011966733f32f82e3ae84363b789104ae9d466a36b89c761d70d041',
    });
  });

  it("fails bad input once, with the function's own message and no retry", async () => {
    const tracker = await bed.tracker('sleep');
    const job = await bed.queue('sleep').add('sleep', { ms: -5 }, { attempts: 3 });
    const { failed } = await tracker.wait([job.id!], 20_000);
    assert.match(failed.get(job.id!) ?? '', /sleep: input\.ms must be an integer from 0 to 600000, got -5/);
    const [stored] = await jobsById(bed.queue('sleep'), [job.id!]);
    assert.equal(stored!.attemptsMade, 1);
  });
});
