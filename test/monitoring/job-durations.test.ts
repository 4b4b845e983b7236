// The duration histogram a dispatcher publishes: fixed buckets, answered jobs only, and merging
// across dispatchers bucket by bucket.
import { strict as assert } from 'node:assert';
import { DURATION_BOUNDS_SECONDS, JobDurations, mergeDurations } from '../../dispatcher/job-durations';
import type { JobOutcome } from '../../dispatcher/waiting';

describe('monitoring: job durations', () => {
  it('counts each duration in the first bucket whose bound holds it, the rest above every bound', () => {
    const durations = new JobDurations();
    for (const seconds of [0.001, 0.005, 0.0051, 2, 301, -1, Number.NaN]) durations.record(seconds);
    const h = durations.snapshot();
    assert.deepEqual(h.bounds, DURATION_BOUNDS_SECONDS);
    assert.equal(h.counts.length, DURATION_BOUNDS_SECONDS.length + 1);
    assert.equal(h.counts[0], 2, '0.001 and 0.005 (a bound is inclusive)');
    assert.equal(h.counts[1], 1);
    assert.equal(h.counts[DURATION_BOUNDS_SECONDS.indexOf(2.5)], 1);
    assert.equal(h.counts.at(-1), 1, '301 s is above every bound');
    assert.equal(h.count, 5, 'negative and NaN durations are dropped');
    assert.ok(Math.abs(h.sum - 303.0111) < 1e-9);
  });

  it('times answered jobs only: a runtime that died under a job is no answer', async () => {
    const durations = new JobDurations();
    const answers: JobOutcome[] = [];
    const done = durations.timed((o) => answers.push(...o));
    const chunk = durations.timed((o) => answers.push(...o));
    await new Promise((resolve) => setTimeout(resolve, 20));
    done([{ kind: 'done', valueJson: '1' }]);
    chunk([
      { kind: 'runtime-died', error: { code: 'PHOTONS_ERR_RUNTIME_DIED', message: 'gone' } },
      { kind: 'failed', error: { code: 'PHOTONS_ERR_TIMEOUT', message: 'late' }, unrecoverable: false },
    ]);
    assert.equal(answers.length, 3, 'every outcome still reaches its caller');
    const h = durations.snapshot();
    assert.equal(h.count, 2, 'each answered input of a request counts');
    assert.ok(h.sum >= 0.015 && h.sum < 1, `sum ${h.sum}`);
  });

  it('merges histograms bucket by bucket and leaves out those with other bounds', () => {
    const a = new JobDurations();
    const b = new JobDurations();
    a.record(0.003);
    b.record(0.003);
    b.record(7);
    const other = { bounds: [1], counts: [5, 5], sum: 10, count: 10 };
    const merged = mergeDurations([a.snapshot(), undefined, b.snapshot(), other])!;
    assert.equal(merged.count, 3);
    assert.equal(merged.counts[0], 2);
    assert.equal(merged.counts[DURATION_BOUNDS_SECONDS.indexOf(10)], 1);
    assert.equal(mergeDurations([undefined, other]), undefined);
  });
});
