// The published package as a user gets it: only the compiled product, small, and a CLI that works
// without the repository around it.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');
/** The budget for the unpacked package. */
const MAX_UNPACKED_BYTES = 2 * 1024 * 1024;

interface PackEntry {
  path: string;
  size: number;
}

interface PackResult {
  name: string;
  unpackedSize: number;
  files: PackEntry[];
}

describe('the npm package', function () {
  this.timeout(120_000);
  let pack: PackResult;

  before(() => {
    // --ignore-scripts: `npm test` has just built dist/; prepare would compile it again.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pack = (JSON.parse(out) as PackResult[])[0]!;
  });

  it(`unpacks to under ${MAX_UNPACKED_BYTES / 1024 / 1024} MB`, () => {
    assert.ok(pack.unpackedSize < MAX_UNPACKED_BYTES, `unpacked ${pack.unpackedSize} bytes in ${pack.files.length} files`);
  });

  it('holds the product, its CLI and the dashboard files, and no test, benchmark, workload or source', () => {
    const files = pack.files.map((f) => f.path);
    for (const needed of [
      'package.json',
      'README.md',
      'bin/photons.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/photon-worker/runtime-thread.js',
      'dist/producer/api/monitoring/public/index.html',
    ]) {
      assert.ok(files.includes(needed), `the package holds ${needed}`);
    }
    const stray = files.filter((f) => /(^|\/)(test|bench|examples|functions|fixtures)\//.test(f) || /\.test\.|(?<!\.d)\.ts$/.test(f));
    assert.deepEqual(stray, [], 'tests, benchmarks, examples or TypeScript sources in the package');
    const outside = files.filter((f) => !/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE)/.test(f));
    assert.deepEqual(outside, [], 'files outside dist/ and bin/');
  });

  describe('installed without the repository', () => {
    let app: string;
    let pkg: string;

    before(() => {
      // The package's own files, copied (not linked: the CLI must not find the checkout through a
      // symlink), beside the repository's node_modules, which stand in for its installed dependencies.
      app = mkdtempSync(path.join(tmpdir(), 'photons-installed-'));
      pkg = path.join(app, 'node_modules', 'photons');
      for (const file of pack.files) {
        mkdirSync(path.dirname(path.join(pkg, file.path)), { recursive: true });
        cpSync(path.join(REPO_ROOT, file.path), path.join(pkg, file.path));
      }
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
    });

    after(() => rmSync(app, { recursive: true, force: true }));

    it('`photons bench` says the benchmarks run from a checkout, with exit code 2 and no stack trace', () => {
      const run = spawnSync(process.execPath, [path.join(pkg, 'bin', 'photons.js'), 'bench', 'paper'], { cwd: app, encoding: 'utf8' });
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /benchmarks run from a checkout of the repository/);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    });

    it('exports the client and what a function author types against, and its package.json', () => {
      const script = `
        const photons = require('photons');
        const names = ['PhotonsClient', 'MapRun', 'PhotonsError', 'JobFailedError', 'ErrorCodes', 'UnrecoverableError'];
        const missing = names.filter((n) => typeof photons[n] === 'undefined');
        if (typeof require('photons/config').loadConfig !== 'function') missing.push('photons/config: loadConfig');
        console.log(JSON.stringify({ missing, version: require('photons/package.json').version }));
      `;
      const out = execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' });
      const { missing, version } = JSON.parse(out) as { missing: string[]; version: string };
      assert.deepEqual(missing, []);
      assert.match(version, /^\d+\.\d+\.\d+/);
      const deep = spawnSync(process.execPath, ['-e', "require('photons/dist/cli/main.js')"], { cwd: app, encoding: 'utf8' });
      assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/, 'only the exports map is public');
    });
  });
});
