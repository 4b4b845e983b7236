// A dispatcher runs only what was deployed: bundles altered in Redis, misnamed, unsigned or signed
// with another key are refused with PHOTONS_ERR_DEPLOY_REJECTED (logged, not a crash), and stray
// files with invalid names in the functions folder are skipped with an error naming them.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { Dispatcher } from '../../dispatcher/dispatcher';
import { deployBundle } from '../../dispatcher/deployments';
import { photonsKey } from '../../contract/keys';
import { bundleFunction } from '../../photon-worker/bundle';
import { PHOTONS_BIN, REPO_ROOT, TestBed, until } from './helpers';

const execFileAsync = promisify(execFile);
const SOURCE = 'export default async function (input: { n: number }) { return { twice: input.n * 2 }; }\n';

describe('dispatcher: verified deploys and function names', function () {
  this.timeout(60_000);
  let bed: TestBed;
  let dir: string;
  let empty: string;
  let logs: string[];
  let started: Dispatcher[] = [];

  beforeEach(() => {
    bed = new TestBed();
    dir = mkdtempSync(path.join(tmpdir(), 'photons-verify-src-'));
    empty = mkdtempSync(path.join(tmpdir(), 'photons-verify-empty-'));
    logs = [];
  });
  afterEach(async () => {
    await Promise.all(started.map((d) => d.close()));
    started = [];
    await bed.cleanup();
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  /** A dispatcher whose error log lines are kept in `logs`. */
  const dispatcher = async (overrides: Record<string, unknown> = {}): Promise<Dispatcher> => {
    const config = bed.config({ functionsDir: empty, ...overrides });
    const made = new Dispatcher(config, pino({ level: 'error' }, { write: (line: string) => void logs.push(line) }));
    started.push(made);
    await made.start();
    return made;
  };
  const rejections = (): Array<{ code: string; msg: string; fn?: string }> =>
    logs.map((line) => JSON.parse(line) as { code: string; msg: string; fn?: string }).filter((l) => l.code === 'PHOTONS_ERR_DEPLOY_REJECTED');
  const bundle = async (name: string) => {
    const file = path.join(dir, `${name}.ts`);
    writeFileSync(file, SOURCE);
    return bundleFunction(file);
  };
  const invoke = async (fn: string, n: number): Promise<unknown> => {
    const events = await bed.events(fn);
    const job = await bed.queue(fn).add('job', { n });
    return job.waitUntilFinished(events, 20_000);
  };

  it('skips function files with invalid names, logging each, passes over hidden files, declarations and tests, and serves the others', async () => {
    writeFileSync(path.join(empty, 'good.ts'), SOURCE);
    writeFileSync(path.join(empty, 'my function.ts'), SOURCE);
    writeFileSync(path.join(empty, '1abc.ts'), SOURCE);
    // Not functions, and no error for them: a hidden tool config, type declarations, a test.
    writeFileSync(path.join(empty, '.eslintrc.js'), 'module.exports = {};\n');
    writeFileSync(path.join(empty, 'types.d.ts'), 'export interface Input { n: number }\n');
    writeFileSync(path.join(empty, 'good.test.ts'), SOURCE);
    const served = await dispatcher();
    assert.deepEqual(served.functionNames, ['good']);
    for (const file of ['.eslintrc.js', 'types.d.ts', 'good.test.ts'])
      assert.ok(!logs.some((line) => line.includes(file)), `${file} was logged: ${logs.join('')}`);
    for (const file of ['my function.ts', '1abc.ts']) {
      assert.ok(
        logs.some((line) => line.includes('PHOTONS_ERR_INVALID_FUNCTION_NAME') && line.includes(file) && line.includes('starting with a letter')),
        `no error naming ${file}: ${logs.join('')}`,
      );
    }
    assert.deepEqual(await invoke('good', 4), { twice: 8 });
  });

  it('refuses a bundle altered in Redis and one stored under an invalid name', async () => {
    const twice = await bundle('twice');
    await deployBundle(bed.redis, bed.prefix, twice);
    const key = photonsKey(bed.prefix, 'bundle', twice.hash);
    const stored = JSON.parse((await bed.redis.get(key))!) as { code: string };
    await bed.redis.set(key, JSON.stringify({ ...stored, code: `${stored.code}\nrequire('child_process');` }));
    const misnamed = { ...(await bundle('other')), name: 'bad name' };
    await bed.redis.set(photonsKey(bed.prefix, 'bundle', misnamed.hash), JSON.stringify(misnamed));
    await bed.redis.hset(photonsKey(bed.prefix, 'deployed'), 'bad name', misnamed.hash);
    const served = await dispatcher();
    assert.deepEqual(served.functionNames, []);
    const refused = rejections();
    assert.ok(
      refused.some((r) => r.fn === 'twice' && /altered in Redis/.test(r.msg)),
      logs.join(''),
    );
    assert.ok(
      refused.some((r) => r.fn === 'bad name' && /not a valid|letters, digits/.test(r.msg)),
      logs.join(''),
    );
    // A tampered version announced to a running dispatcher is refused too, and nothing crashes.
    await bed.redis.publish(photonsKey(bed.prefix, 'deploy'), JSON.stringify({ fn: 'twice', hash: twice.hash }));
    await until('the refusal logged', () => rejections().length >= 3);
    assert.deepEqual(served.functionNames, []);
  });

  it('with a deploy key, runs what photons deploy signed with it and refuses unsigned or wrongly signed bundles', async () => {
    const served = await dispatcher({ 'deploy.key': 'the-right-key' });
    await deployBundle(bed.redis, bed.prefix, await bundle('unsigned'));
    await deployBundle(bed.redis, bed.prefix, await bundle('forged'), 'another-key');
    await until('both refusals logged', () => rejections().length >= 2);
    assert.ok(
      rejections().some((r) => r.fn === 'unsigned' && /not signed/.test(r.msg)),
      logs.join(''),
    );
    assert.ok(
      rejections().some((r) => r.fn === 'forged' && /signature does not match/.test(r.msg)),
      logs.join(''),
    );
    const file = path.join(dir, 'signed.ts');
    writeFileSync(file, SOURCE);
    await execFileAsync(process.execPath, [PHOTONS_BIN, 'deploy', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, PHOTONS_REDIS_URL: bed.url, PHOTONS_REDIS_PREFIX: bed.prefix, PHOTONS_DEPLOY_KEY: 'the-right-key' },
    });
    await until('the signed function served', () => served.functionNames.includes('signed'));
    assert.deepEqual(await invoke('signed', 21), { twice: 42 });
    assert.deepEqual(served.functionNames, ['signed']);
    // The key itself never reaches Redis.
    const stored = await bed.redis.get(photonsKey(bed.prefix, 'bundle', (await bundleFunction(file)).hash));
    assert.ok(stored && !stored.includes('the-right-key'));
  });

  it('without a key, runs an unsigned bundle whose hash checks out', async () => {
    const served = await dispatcher();
    await deployBundle(bed.redis, bed.prefix, await bundle('plain'));
    await until('the function served', () => served.functionNames.includes('plain'));
    assert.deepEqual(await invoke('plain', 5), { twice: 10 });
  });
});
