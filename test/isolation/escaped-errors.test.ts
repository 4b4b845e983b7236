// An error a job lets escape (a throw in its timer, a promise left rejecting, a late throw from a
// Node timer it started) is logged with the job's id and does not take the runtime down.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runLogged } from './run-logged';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const ESCAPE = path.join(REPO_ROOT, 'test/fixtures/isolation/timers/escape.ts');

describe('errors a job lets escape', function () {
  this.timeout(60_000);

  it("are logged with the job's id, and the runtime serves on", async function () {
    const kinds = ['timer', 'rejection', 'late-timer', 'ok', 'ok'];
    const { outcomes, records } = await runLogged(
      ESCAPE,
      kinds.map((kind) => ({ kind })),
    );
    // Every job answered, in the one runtime (a runtime death would have failed or rerun jobs).
    assert.deepStrictEqual(
      outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.error)),
      kinds,
    );
    const escaped = records.filter((record) => record.level >= 50 && record.err);
    for (const [jobId, text] of [
      ['0', 'thrown by a timer of job 0'],
      ['1', 'left rejecting by job 1'],
      ['2', 'thrown late for job 2'],
    ]) {
      const record = escaped.find((r) => r.err!.message === text);
      assert.ok(record, `no log line for "${text}": ${JSON.stringify(escaped)}`);
      assert.equal(record.jobId, jobId, JSON.stringify(record));
      assert.match(record.msg, new RegExp(`job ${jobId}`));
    }
  });
});
