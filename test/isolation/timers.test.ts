// Timers a job's own code leaves running are cleared when the job settles, with one log line; the
// timers of a ctx.shared init belong to the runtime and live on. Fixtures: isolation/timers/.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { runLocal } from '../../dispatcher/local-run';
import { runLogged } from './run-logged';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const LEAKY = path.join(REPO_ROOT, 'test/fixtures/isolation/timers/leaky.ts');
const config = loadConfig({ 'log.level': 'error' });

describe('timers a job leaves running', function () {
  this.timeout(120_000);

  it('after 400 jobs that each left three timers, the runtime holds about as many timers as before them', async function () {
    const inputs = [{ count: true }, ...Array.from({ length: 400 }, () => ({ leave: true })), { count: true }];
    // One runtime, 8 jobs at a time.
    const outcomes = await runLocal(LEAKY, inputs, { concurrency: 8, config });
    for (const outcome of outcomes) assert.ok(outcome.ok, JSON.stringify(outcome));
    const valueOf = (index: number): { timers: number; sharedTickerRuns: boolean } => {
      const outcome = outcomes[index]!;
      assert.ok(outcome.ok);
      return outcome.value as { timers: number; sharedTickerRuns: boolean };
    };
    const first = valueOf(0);
    const last = valueOf(outcomes.length - 1);
    // Before the fix: 1,200 more. A few may be in flight (jobs still settling, the runtime's own).
    assert.ok(last.timers <= first.timers + 8 * 3, `${first.timers} timers at first, ${last.timers} after 400 leaky jobs`);
    // The interval the ctx.shared init started is the runtime's: it still runs.
    assert.equal(last.sharedTickerRuns, true);
  });

  it('says once per job how many of its timers it cleared, naming the job', async function () {
    const { outcomes, records } = await runLogged(LEAKY, [{ leave: true }, { leave: true }, {}]);
    for (const outcome of outcomes) assert.ok(outcome.ok, JSON.stringify(outcome));
    const cleared = records.filter((record) => record.cleared !== undefined);
    assert.deepStrictEqual(
      cleared.map((record) => ({ jobId: record.jobId, cleared: record.cleared })),
      [
        { jobId: '0', cleared: 3 },
        { jobId: '1', cleared: 3 },
      ],
    );
    assert.match(cleared[0]!.msg, /cleared 3 timer\(s\) job 0 left running/);
  });
});
