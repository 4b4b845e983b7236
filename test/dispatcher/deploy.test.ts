// `photons deploy`: a function bundled on one host runs on every dispatcher, exactly that version;
// a new version takes new jobs while the old one finishes its own; each job records its version.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PhotonsClient } from '../../producer/client';
import { PHOTONS_BIN, REPO_ROOT, TestBed, until } from './helpers';

const execFileAsync = promisify(execFile);

/** A function whose answer names its version, holding each job for input.holdMs. */
function versionSource(version: number): string {
  return `export default async function (input: { holdMs?: number }) {
  await new Promise((resolve) => setTimeout(resolve, input.holdMs ?? 0));
  return { version: ${version} };
}
`;
}

describe('dispatcher: functions deployed through Redis', function () {
  this.timeout(60_000);
  let bed: TestBed;
  let client: PhotonsClient;
  let source: string;
  let file: string;
  let v1: string;
  const empty = mkdtempSync(path.join(tmpdir(), 'photons-nofunctions-'));

  const deploy = async (): Promise<string> => {
    const { stdout } = await execFileAsync(process.execPath, [PHOTONS_BIN, 'deploy', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, PHOTONS_REDIS_URL: bed.url, PHOTONS_REDIS_PREFIX: bed.prefix },
    });
    const match = /^deployed versioned version ([0-9a-f]{12}) /m.exec(stdout);
    assert.ok(match, stdout);
    return match[1]!;
  };

  // Each test on a prefix of its own: a dispatcher without a file of the function, and version 1 deployed.
  beforeEach(async () => {
    bed = new TestBed();
    client = new PhotonsClient({ redisUrl: bed.url, prefix: bed.prefix });
    source = mkdtempSync(path.join(tmpdir(), 'photons-deploy-'));
    file = path.join(source, 'versioned.ts');
    await bed.dispatcher({ functionsDir: empty });
    writeFileSync(file, versionSource(1));
    v1 = await deploy();
    await until('the function registered', async () => (await client.functions()).some((f) => f.name === 'versioned'), 10_000);
  });
  afterEach(async () => {
    await client.close();
    await bed.cleanup();
    rmSync(source, { recursive: true, force: true });
  });
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('serves a deployed function on a dispatcher that has no file of it, and records the version per job', async () => {
    assert.deepEqual(await client.invoke('versioned', {}, { timeoutMs: 10_000 }), { version: 1 });
    const jobId = await client.enqueue('versioned', {});
    await until('the job finished', async () => (await client.result(jobId)).state === 'completed', 10_000);
    const status = await until('the version recorded', async () => {
      const s = await client.result(jobId);
      return s.version ? s : undefined;
    });
    assert.ok(status.version!.startsWith(v1), `${status.version} is not ${v1}`);
  });

  it('switches new jobs to a new version while the old one finishes the jobs it holds', async () => {
    const old = await client.enqueue('versioned', { holdMs: 1_500 });
    await until('the old job running', async () => (await client.result(old)).state === 'active', 10_000);
    writeFileSync(file, versionSource(2));
    const v2 = await deploy();
    const fresh = await until('a job on the new version', async () => {
      const value = (await client.invoke('versioned', {}, { timeoutMs: 10_000 })) as { version: number };
      return value.version === 2 ? value : undefined;
    });
    assert.deepEqual(fresh, { version: 2 });
    await until('the old job finished', async () => (await client.result(old)).state === 'completed', 10_000);
    const status = await client.result(old);
    assert.deepEqual(status.value, { version: 1 }, 'the job that ran on the old version kept it');
    assert.ok(!status.version!.startsWith(v2));
  });

  it('runs the current version on a dispatcher started later, on another host', async () => {
    writeFileSync(file, versionSource(2));
    await deploy();
    await until(
      'the first dispatcher on version 2',
      async () => ((await client.invoke('versioned', {}, { timeoutMs: 10_000 })) as { version: number }).version === 2 || undefined,
    );
    const late = await bed.dispatcher({ functionsDir: empty });
    assert.ok(late.functionNames.includes('versioned'));
    assert.deepEqual(await client.invoke('versioned', {}, { timeoutMs: 10_000 }), { version: 2 });
  });

  it('refuses a file that does not bundle, deploying nothing', async () => {
    writeFileSync(path.join(source, 'broken.ts'), 'export default async function ( {');
    await assert.rejects(
      execFileAsync(process.execPath, [PHOTONS_BIN, 'deploy', source], {
        cwd: REPO_ROOT,
        env: { ...process.env, PHOTONS_REDIS_URL: bed.url, PHOTONS_REDIS_PREFIX: bed.prefix },
      }),
      (err: Error & { code?: number; stderr?: string }) => err.code === 1 && /PHOTONS_ERR_BUNDLE/.test(err.stderr ?? ''),
    );
    assert.deepEqual(await client.invoke('versioned', {}, { timeoutMs: 10_000 }), { version: 1 }, 'the deployed version stays');
  });
});
