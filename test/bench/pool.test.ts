// `photons bench pool --quick --json`: both pools run all three scenarios end to end, the figures
// are whole and consistent, the project's pool loses no job to the crash, and the verdict follows
// from the figures.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { POISON_DEATHS } from '../../dispatcher/runtime-pool';
import type { BurstResult, CrashResult, SteadyResult } from '../../bench/pool-run';
import { verdictOf, type PoolVerdict } from '../../bench/pool';

const REPO_ROOT = path.resolve(__dirname, '../../..');

interface PoolReport {
  suite: string;
  quick: boolean;
  piscinaVersion: string;
  burst: { photons: BurstResult; piscina: BurstResult };
  steady: { photons: SteadyResult; piscina: SteadyResult };
  crash: { photons: CrashResult; piscina: CrashResult };
  verdict: PoolVerdict;
}

describe('bench pool --quick', function () {
  this.timeout(300_000);

  it('measures both pools on the burst, the steady load and the crash, and derives the verdict from the figures', async function () {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin', 'photons.js'), 'bench', 'pool', '--quick', '--json'], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines.at(-1)!) as PoolReport;
    assert.equal(report.suite, 'pool');
    assert.equal(report.quick, true);
    assert.match(report.piscinaVersion, /^5\.\d+\.\d+$/);

    for (const pool of ['photons', 'piscina'] as const) {
      const burst = report.burst[pool];
      assert.equal(burst.jobs, 1_000);
      assert.ok(burst.threads >= 1 && burst.threads <= availableParallelism() + 1, `${pool} burst threads: ${burst.threads}`);
      assert.ok(burst.seconds >= burst.jobMs / 1000, `${pool}: no answer before its job's wait is over (${burst.seconds} s)`);
      assert.ok(burst.peakRssMB > 0 && burst.heapMB > 0, JSON.stringify(burst));

      const steady = report.steady[pool];
      assert.ok(steady.jobsPerSec > 0, JSON.stringify(steady));
      assert.ok(steady.p50Ms > 0 && steady.p99Ms >= steady.p50Ms, JSON.stringify(steady));

      const crash = report.crash[pool];
      assert.equal(crash.answered + crash.lost, crash.jobs, JSON.stringify(crash));
      assert.equal(crash.deaths, POISON_DEATHS, `${pool}: the job that fills the heap is failed as poison at the second death`);
    }
    // The project's claim: a thread's death costs no job but the one that caused it.
    assert.equal(report.crash.photons.lost, 0, JSON.stringify(report.crash.photons));
    assert.equal(report.crash.photons.answered, report.crash.photons.jobs);
    assert.ok(report.crash.photons.reruns >= 1, 'the jobs in the dead thread ran again');

    assert.deepEqual(report.verdict, verdictOf(report.burst, report.steady, report.crash));
    assert.ok(
      lines.some((line) => /^piscina: .*: (adopt|keep the project pool)\.$/.test(line)),
      stdout,
    );
  });
});
