// The watchdog judges a runtime by its silence since it last heard from the thread. A function
// that takes longer than watchdogMs to load (allowed: startTimeoutMs) must not have that load held
// against it once it is ready: a runtime killed as "blocked" right after it took its jobs hands
// them back, and a job handed back twice is failed as poison although it did nothing wrong.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import pino from 'pino';
import { bundleFunction } from '../../photon-worker/bundle';
import { Runtime } from '../../dispatcher/runtime';
import type { JobOutcome } from '../../dispatcher/waiting';
import { REPO_ROOT } from './helpers';

const SLOW_LOAD = path.join(REPO_ROOT, 'test', 'fixtures', 'watchdog', 'slow-load.ts');

/** Starts a runtime of the fixture, runs one job once it is ready, and waits for the thread to end. */
async function runOnce(n: number): Promise<{ outcome: JobOutcome; runtimeDied: boolean }> {
  const bundle = await bundleFunction(SLOW_LOAD);
  return new Promise((resolve, reject) => {
    let outcome: JobOutcome | undefined;
    let runtimeDied = false;
    new Runtime({
      id: n,
      bundle,
      mode: 'shared',
      memoryMb: 128,
      watchdogMs: 1_000,
      startTimeoutMs: 30_000,
      defaultTimeoutMs: 30_000,
      logLevel: 'silent',
      logger: pino({ level: 'silent' }),
      onProgress: () => undefined,
      onReady: (runtime) => {
        runtime.run([
          {
            job: { jobId: `slow-${n}`, inputs: [{ n }], attempt: 1 },
            resolve: ([o]) => {
              outcome = o;
              void runtime.retire();
            },
          },
        ]);
      },
      onAnswers: () => undefined,
      onExit: (_runtime, reason) => {
        runtimeDied = reason !== null;
        // The job's promise settles before onExit returns control: read it on the next turn.
        setImmediate(() => (outcome ? resolve({ outcome, runtimeDied }) : reject(new Error(`no outcome; exit reason: ${reason?.message}`))));
      },
    });
  });
}

describe('dispatcher: the watchdog after a slow function load', function () {
  this.timeout(60_000);

  it('a runtime that loaded for longer than watchdogMs keeps its jobs once ready, and answers them', async () => {
    for (let n = 0; n < 3; n++) {
      const { outcome, runtimeDied } = await runOnce(n);
      assert.deepEqual(outcome, { kind: 'done', valueJson: JSON.stringify({ n }) }, `run ${n}: ${JSON.stringify(outcome)}`);
      assert.equal(runtimeDied, false, `run ${n}: the runtime was retired, not killed`);
    }
  });
});
