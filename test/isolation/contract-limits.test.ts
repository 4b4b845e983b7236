// The known limits of the photon contract (ARCHITECTURE.md, "What is shared and what is per job"), each shown as it behaves, and the
// explicit sharing API of ctx: shared, exclusive, tmpdir, signal, console, photonId.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../config';
import { runLocal, type LocalOutcome } from '../../dispatcher/local-run';
import { installFixturePackage } from './fixture-package';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const LIMITS = path.join(REPO_ROOT, 'test/fixtures/isolation/limits');
const config = loadConfig({ 'log.level': 'warn' });

const fixture = (name: string): string => path.join(LIMITS, name);

function values(outcomes: LocalOutcome[]): unknown[] {
  return outcomes.map((outcome) => {
    assert.ok(outcome.ok, `job ${outcome.index} failed: ${JSON.stringify(outcome)}`);
    return outcome.value;
  });
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

before(installFixturePackage);

describe('contract limits (ARCHITECTURE.md, "What is shared and what is per job")', function () {
  this.timeout(30_000);

  it('state inside a node_modules package is shared by the photons of a runtime; module state is not', async function () {
    const parties = 20;
    const outcomes = await runLocal(
      fixture('node-modules-state.ts'),
      range(parties).map(() => ({ parties })),
      {
        concurrency: parties,
        config,
      },
    );
    // Every job counted once: the package saw all 20, each module instance only its own job.
    for (const value of values(outcomes)) assert.deepStrictEqual(value, { packageCount: parties, moduleCount: 1 });
  });

  it('a local file loaded by a computed require() path is not bundled, so its state is shared too', async function () {
    // Not in ARCHITECTURE.md's list: only literal paths are bundled. A computed path goes to Node's
    // require, whose cache is one per runtime, like node_modules.
    const parties = 10;
    const outcomes = await runLocal(
      fixture('computed-require.ts'),
      range(parties).map(() => ({ parties })),
      {
        concurrency: parties,
        config,
      },
    );
    for (const value of values(outcomes)) assert.deepStrictEqual(value, { literal: 1, computed: parties });
  });

  it('top-level side effects on shared objects (process listeners) repeat for every job', async function () {
    // The module's top level runs once per photon, so a listener it adds to `process` is added
    // once per job and never removed. Fewer than 10 jobs, to stay under Node's leak warning.
    const parties = 8;
    const outcomes = await runLocal(
      fixture('top-level-listener.ts'),
      range(parties).map(() => ({ parties })),
      {
        concurrency: parties,
        config,
      },
    );
    for (const count of values(outcomes)) assert.ok((count as number) >= parties, `only ${String(count)} listeners`);
    // Alone, the module adds its listener once (plus at most the runtime's load check).
    const [solo] = await runLocal(fixture('top-level-listener.ts'), [{ parties: 1 }], { config });
    assert.ok(solo!.ok && (solo!.value as number) <= 2);
  });

  describe('bare reads of globals created at run time are not redirected', function () {
    it('a bare read of a global the photon wrote through globalThis is a ReferenceError', async function () {
      const outcomes = await runLocal(fixture('bare-global.js'), [{ user: 'ada' }, { user: 'bob' }], { concurrency: 2, config });
      assert.deepStrictEqual(values(outcomes), [
        { viaGlobalThis: 'ada', bare: { error: 'ReferenceError' } },
        { viaGlobalThis: 'bob', bare: { error: 'ReferenceError' } },
      ]);
    });

    it("when the real global has that name, a bare read sees the real value, not the photon's", async function () {
      const [outcome] = await runLocal(fixture('bare-global.js'), [{ user: 'ada', realValue: 'set by a package' }], { config });
      assert.deepStrictEqual(values([outcome!]), [{ viaGlobalThis: 'ada', bare: { value: 'set by a package' } }]);
    });

    it('in shared mode (no global views) the same code reads back its own write', async function () {
      const [outcome] = await runLocal(fixture('bare-global.js'), [{ user: 'ada' }], { mode: 'shared', config });
      assert.deepStrictEqual(values([outcome!]), [{ viaGlobalThis: 'ada', bare: { value: 'ada' } }]);
    });
  });

  it('process.env is one object per runtime: a job reads the last write of any job', async function () {
    const parties = 12;
    const users = range(parties).map((i) => `tenant-${i}`);
    const outcomes = await runLocal(
      fixture('process-env.ts'),
      users.map((user) => ({ user, parties })),
      {
        concurrency: parties,
        config,
      },
    );
    const seen = values(outcomes);
    // All jobs read the same value, the one written last, not their own.
    assert.equal(new Set(seen).size, 1);
    assert.ok(users.includes(seen[0] as string));
    // The runtime's env is its thread's copy: the test's own process.env did not change.
    assert.equal(process.env.PHOTONS_FIXTURE_TENANT, undefined);
  });

  it("the working directory and the file system are the process's: shared, and chdir is refused", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'photons-test-fs-'));
    try {
      const parties = 12;
      const users = range(parties).map((i) => `user-${i}`);
      const outcomes = await runLocal(
        fixture('cwd-and-files.ts'),
        users.map((user) => ({ user, dir, parties })),
        {
          concurrency: parties,
          config,
        },
      );
      const seen = values(outcomes) as Array<{ cwd: string; readBack: string; chdir: string }>;
      const lastWriter = readFileSync(path.join(dir, 'owner.txt'), 'utf8');
      for (const value of seen) {
        assert.equal(value.cwd, process.cwd());
        assert.equal(value.readBack, lastWriter); // every job reads the one file all of them wrote
        // A runtime is a worker thread: Node refuses process.chdir() there.
        assert.equal(value.chdir, 'ERR_WORKER_UNSUPPORTED_OPERATION');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ctx: explicit sharing and per-job resources', function () {
  this.timeout(30_000);

  it('ctx.shared initialises once per runtime when 50 photons ask at the same moment', async function () {
    const outcomes = await runLocal(
      fixture('shared-init.ts'),
      range(50).map(() => ({ scenario: 'once' })),
      {
        concurrency: 50,
        config,
      },
    );
    const seen = values(outcomes) as Array<{ model: { loadedBy: number; call: number }; initCalls: number }>;
    for (const value of seen) {
      assert.equal(value.initCalls, 1);
      assert.deepStrictEqual(value.model, seen[0]!.model);
    }
  });

  it('ctx.shared does not cache a rejected init: the callers waiting see the error, the next caller retries', async function () {
    const outcomes = await runLocal(
      fixture('shared-init.ts'),
      range(50).map(() => ({ scenario: 'flaky' })),
      {
        concurrency: 50,
        config,
      },
    );
    for (const value of values(outcomes)) {
      // All 50 waited on the first init and saw its error; their retries shared one second init.
      assert.deepStrictEqual(value, { firstError: 'init call 1 failed', value: { call: 2 }, initCalls: 2 });
    }
  });

  it('ctx.exclusive lets one job at a time into the section', async function () {
    const inputs = (lock: boolean) => range(20).map((i) => ({ lock, delay: (i * 3) % 7 }));
    const locked = values(await runLocal(fixture('exclusive.ts'), inputs(true), { concurrency: 20, config }));
    for (const most of locked) assert.equal(most, 1);
    // The same section without the lock does overlap: the measure can see a failure.
    const unlocked = values(await runLocal(fixture('exclusive.ts'), inputs(false), { concurrency: 20, config }));
    assert.ok(Math.max(...(unlocked as number[])) > 1);
  });

  describe('ctx.tmpdir', function () {
    let dirs: string[] = [];
    after(function () {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('is private to each of 50 concurrent jobs', async function () {
      const inputs = range(50).map((i) => ({ user: `user-${i}`, delay: i % 9 }));
      const seen = values(await runLocal(fixture('tmpdir.ts'), inputs, { concurrency: 50, config })) as Array<{
        dir: string;
        readBack: string;
        sameTwice: boolean;
      }>;
      dirs = seen.map((value) => value.dir);
      assert.equal(new Set(dirs).size, 50);
      seen.forEach((value, i) => {
        assert.equal(value.readBack, `user-${i}`);
        assert.ok(value.sameTwice);
      });
    });

    // The folder is removed after the job's answer; the runtime retiring right after the last job
    // must not cut that removal short and leave the folders behind.
    it('is removed once the job is over', async function () {
      const inputs = range(10).map((i) => ({ user: `user-${i}`, delay: 0 }));
      const seen = values(await runLocal(fixture('tmpdir.ts'), inputs, { concurrency: 10, config })) as Array<{ dir: string }>;
      dirs.push(...seen.map((value) => value.dir));
      const left = seen.map((value) => value.dir).filter((dir) => existsSync(dir));
      assert.deepStrictEqual(left, []);
    });
  });

  it('ctx.signal fires with the timeout error when the job times out; other jobs are not aborted', async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'photons-test-signal-'));
    try {
      const marker = path.join(dir, 'aborted.json');
      const outcomes = await runLocal(
        fixture('signal.ts'),
        [
          { wait: false, marker },
          { wait: true, marker },
          { wait: false, marker },
        ],
        { concurrency: 3, timeoutMs: 150, config },
      );
      assert.deepStrictEqual(outcomes[0], { index: 0, ok: true, value: { aborted: false } });
      assert.deepStrictEqual(outcomes[2], { index: 2, ok: true, value: { aborted: false } });
      const timedOut = outcomes[1]!;
      assert.ok(!timedOut.ok);
      assert.equal(timedOut.error.code, 'PHOTONS_ERR_TIMEOUT');
      const seen = JSON.parse(readFileSync(marker, 'utf8')) as { aborted: boolean; code: string; message: string; afterMs: number };
      assert.equal(seen.aborted, true);
      assert.equal(seen.code, 'PHOTONS_ERR_TIMEOUT');
      // The job's error names the function's file by its full path, the signal's reason (set inside
      // the runtime) by its file name: both say which function ran past which timeout, and for which job.
      for (const message of [seen.message, timedOut.error.message]) {
        assert.match(message, /^Function "signal" \(.*signal\.ts\) ran past its timeout of 150 ms \(job 1\)\./);
      }
      assert.ok(seen.afterMs >= 140, `aborted after ${seen.afterMs} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ctx.photonId is unique per job within a runtime', async function () {
    const inputs = range(50).map((i) => ({ delay: i % 7 }));
    const seen = values(await runLocal(fixture('photon-id.ts'), inputs, { concurrency: 50, config })) as Array<{
      photonId: number;
      jobId: string;
      attempt: number;
      functionName: string;
    }>;
    assert.equal(new Set(seen.map((value) => value.photonId)).size, 50);
    seen.forEach((value, i) => {
      assert.ok(Number.isInteger(value.photonId) && value.photonId > 0);
      assert.equal(value.jobId, String(i));
      assert.equal(value.attempt, 1);
      assert.equal(value.functionName, 'photon-id');
    });
  });

  describe('console in a photon', function () {
    it('every console method can be called and the job succeeds', async function () {
      const outcomes = await runLocal(fixture('console.ts'), [{ marker: 'm0' }, { marker: 'm1' }], {
        concurrency: 2,
        config: loadConfig({ 'log.level': 'silent' }),
      });
      assert.deepStrictEqual(values(outcomes), ['printed', 'printed']);
    });

    // Functions pass console methods as callbacks or destructure them: they must not need `this`.
    it('console methods used detached (forEach(console.info), .catch(console.error)) work too', async function () {
      const outcomes = await runLocal(fixture('console.ts'), [{ marker: 'm0', detached: true }], {
        config: loadConfig({ 'log.level': 'silent' }),
      });
      assert.deepStrictEqual(outcomes, [{ index: 0, ok: true, value: 'printed' }]);
    });

    // The runtime's logger (pino on an asynchronous sonic-boom) must be flushed before the runtime
    // is retired right after the last job. With a few lines a loss would be a race; 500 lines a job
    // would lose some nearly always.
    it('console output goes to the job logger (JSON lines with jobId and photonId), none lost', async function () {
      const LINES = 500;
      // A child process, because the runtime's logger writes to a file descriptor directly: under
      // runLocal (as under `photons run`) logs and the function's console go to stderr, fd 2.
      const script = `
        const { runLocal } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist/dispatcher/local-run.js'))});
        const { loadConfig } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist/config/index.js'))});
        runLocal(${JSON.stringify(fixture('console.ts'))},
          [{ marker: 'mark-0', lines: ${LINES} }, { marker: 'mark-1', lines: ${LINES} }],
          { concurrency: 2, config: loadConfig({ 'log.level': 'info' }) })
          .then((outcomes) => process.stdout.write(JSON.stringify(outcomes)));
      `;
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], {
        cwd: REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.deepStrictEqual(JSON.parse(stdout), [
        { index: 0, ok: true, value: 'printed' },
        { index: 1, ok: true, value: 'printed' },
      ]);
      const lines = stderr.split('\n').filter((line) => line.includes('mark-'));
      for (const line of lines) assert.match(line, /^\{.*\}$/, `a bare line on stderr: ${line}`);
      const records = lines.map((line) => JSON.parse(line) as { jobId: string; photonId: number; msg: string });
      for (const [jobId, marker] of [
        ['0', 'mark-0'],
        ['1', 'mark-1'],
      ] as const) {
        const mine = records.filter((record) => record.msg.includes(marker));
        for (const record of mine) {
          assert.equal(record.jobId, jobId);
          assert.equal(typeof record.photonId, 'number');
        }
        // log, info, warn and error are at or above level info (debug and trace are not), plus the lines.
        assert.equal(mine.length, 4 + LINES, `${marker}: ${mine.length} lines of ${4 + LINES} reached stderr`);
      }
    });
  });
});
