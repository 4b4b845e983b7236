// `photons run` spawned as a user would: JSON lines in input order, exit codes, usage errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');

function photons(...args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/photons.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PHOTONS_LOG_LEVEL: 'warn' },
    cwd: REPO_ROOT,
  });
}

describe('photons run', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'photons-run-'));

  it('prints one JSON line per input, in input order, and exits 0 when all succeed', function () {
    const inputs = path.join(dir, 'inputs.jsonl');
    writeFileSync(inputs, ['{"seed":"a","sizeBytes":1024}', '', '{"seed":"b","sizeBytes":2048}', '{"seed":"c","sizeBytes":16}'].join('\n'));
    const result = photons('run', 'bench/workloads/hash.ts', '--inputs', inputs, '--concurrency', '3');
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; ok: boolean; value: { sizeBytes: number } });
    assert.deepEqual(
      lines.map((l) => [l.index, l.ok, l.value.sizeBytes]),
      [
        [0, true, 1024],
        [1, true, 2048],
        [2, true, 16],
      ],
    );
  });

  it('reports a failing job as ok:false with its code, and exits 1', function () {
    const result = photons('run', 'bench/workloads/hash.ts', '--input', '{"sizeBytes":-1}');
    assert.equal(result.status, 1);
    const line = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(line.ok, false);
    assert.match(line.error.message, /sizeBytes/);
  });

  it('runs each mode', function () {
    for (const mode of ['photon', 'shared', 'lambda']) {
      const result = photons('run', 'bench/workloads/hash.ts', '--input', '{"seed":"m","sizeBytes":64}', '--mode', mode);
      assert.equal(result.status, 0, `${mode}: ${result.stderr}`);
    }
  });

  it('refuses bad flags with exit code 2, naming the flag', function () {
    const cases: Array<[string[], RegExp]> = [
      [['run'], /Missing the function file/],
      [['run', 'bench/workloads/hash.ts'], /exactly one of --inputs/],
      [['run', 'bench/workloads/hash.ts', '--input', '{x'], /--input is not JSON/],
      [['run', 'bench/workloads/hash.ts', '--input', '1', '--concurrency', '0'], /--concurrency must be a positive integer, got "0"/],
      [['run', 'bench/workloads/hash.ts', '--input', '1', '--mode', 'turbo'], /--mode must be one of photon, shared, lambda/],
      [['run', 'bench/workloads/hash.ts', '--inputs', path.join(dir, 'missing.jsonl')], /does not exist/],
      [['run', 'bench/workloads/hash.ts', '--input', '1', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = photons(...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /PHOTONS_ERR_USAGE/);
    }
  });

  it('says which file is missing, with exit code 1', function () {
    const result = photons('run', 'functions/nope.ts', '--input', '1');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /functions\/nope\.ts does not exist.*PHOTONS_ERR_FUNCTION_NOT_FOUND/);
  });

  it('prints --help for the command and the list of commands', function () {
    assert.match(photons('run', '--help').stdout, /Usage: photons run <function-file>/);
    assert.match(photons('--help').stdout, /run +run a function over inputs locally/);
  });
});
