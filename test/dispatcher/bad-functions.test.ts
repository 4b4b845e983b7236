// Functions that cannot run (does not bundle, throws while loading) in a dispatcher's folder: their
// jobs fail at once with the reason and no retry, the registry says why, the other functions serve.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { photonsKey } from '../../contract/keys';
import { TestBed, jobsById } from './helpers';

describe('dispatcher: functions that do not load', function () {
  this.timeout(30_000);
  let bed: TestBed;
  let dir: string;

  before(async () => {
    bed = new TestBed();
    // Plain JavaScript without imports, so the folder can live outside the repository.
    dir = await mkdtemp(path.join(tmpdir(), 'photons-bad-'));
    await writeFile(path.join(dir, 'broken.js'), 'export default async function (input) { return { x: ; }\n');
    await writeFile(path.join(dir, 'throws-at-load.js'), "throw new Error('no API key configured');\nexport default async () => 1;\n");
    await writeFile(path.join(dir, 'fine.js'), 'export default async function (input) { return { twice: input.n * 2 }; }\n');
    // These functions are broken on purpose: their error logs would only be noise here.
    await bed.dispatcher({ functionsDir: dir, 'log.level': 'fatal' });
  });

  after(async () => {
    await bed.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the jobs of a function that does not bundle with PHOTONS_ERR_BUNDLE, once, and registers why', async () => {
    const tracker = await bed.tracker('broken');
    const job = await bed.queue('broken').add('broken', {}, { attempts: 3 });
    const { failed } = await tracker.wait([job.id!], 10_000);
    assert.match(failed.get(job.id!)!, /^PHOTONS_ERR_BUNDLE: /);
    const [stored] = await jobsById(bed.queue('broken'), [job.id!]);
    assert.equal(stored!.attemptsMade, 1);
    const entry = JSON.parse((await bed.redis.hget(photonsKey(bed.prefix, 'functions'), 'broken'))!) as { error?: { code: string } };
    assert.equal(entry.error?.code, 'PHOTONS_ERR_BUNDLE');
  });

  it('fails the jobs of a function that throws while loading with PHOTONS_ERR_FUNCTION_INIT, once', async () => {
    const tracker = await bed.tracker('throws-at-load');
    const jobs = await bed.queue('throws-at-load').addBulk([1, 2].map((n) => ({ name: 'x', data: { n }, opts: { attempts: 3 } })));
    const { failed } = await tracker.wait(
      jobs.map((j) => j.id!),
      10_000,
    );
    for (const job of jobs) assert.match(failed.get(job.id!)!, /^PHOTONS_ERR_FUNCTION_INIT: .*no API key configured/);
    for (const job of await jobsById(
      bed.queue('throws-at-load'),
      jobs.map((j) => j.id!),
    ))
      assert.equal(job.attemptsMade, 1);
  });

  it('serves the other functions of the folder', async () => {
    const tracker = await bed.tracker('fine');
    const job = await bed.queue('fine').add('fine', { n: 21 });
    const { completed } = await tracker.wait([job.id!], 10_000);
    assert.deepEqual(completed.get(job.id!), { twice: 42 });
  });
});
