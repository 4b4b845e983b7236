// The Sleep workload: waits as asked, many at once in one runtime, rejects bad input, and stops
// waiting when the job times out.
import { strict as assert } from 'node:assert';
import { runLocal } from '../../dispatcher/local-run';
import { errorOf, functionFile, valueOf } from './helpers';

const SLEEP = functionFile('sleep');

describe('functions/sleep', () => {
  it('waits 1 s by default and the asked ms otherwise, all jobs at once', async () => {
    // null means "no options" too; ms: 0 is a valid (empty) wait.
    const inputs = [{}, null, { ms: 0 }, ...Array.from({ length: 8 }, (_, i) => ({ ms: 20 + i * 10 }))];
    const order: number[] = [];
    const outcomes = await runLocal(SLEEP, inputs, { concurrency: inputs.length, onOutcome: (outcome) => order.push(outcome.index) });

    assert.deepEqual(valueOf(outcomes[0]), { sleptMs: 1000 });
    assert.deepEqual(valueOf(outcomes[1]), { sleptMs: 1000 });
    assert.deepEqual(valueOf(outcomes[2]), { sleptMs: 0 });
    for (let i = 3; i < inputs.length; i++) {
      assert.deepEqual(valueOf(outcomes[i]), { sleptMs: 20 + (i - 3) * 10 });
    }
    // All at once, the answers come shortest wait first: the two 1 s defaults, enqueued first, answer
    // last. One after the other, they would come in input order.
    assert.equal(order.length, inputs.length);
    assert.deepEqual(order.slice(-2).sort(), [0, 1], `answered in the order ${order.join(', ')}`);
  });

  it('fails bad input with a clear, non-retryable error', async () => {
    const outcomes = await runLocal(SLEEP, [{ ms: -1 }, { ms: 1.5 }, { ms: '10' }, { ms: 600_001 }, 'fast', [5]], {
      concurrency: 6,
    });
    const messages = outcomes.map((o) => errorOf(o).message);
    for (const got of [{ ms: -1 }, { ms: 1.5 }, { ms: '10' }, { ms: 600_001 }].map((i) => JSON.stringify(i.ms))) {
      assert.ok(messages.includes(`sleep: input.ms must be an integer from 0 to 600000, got ${got}`), messages.join('\n'));
    }
    assert.match(messages[4]!, /^sleep: input must be an object/);
    assert.match(messages[5]!, /^sleep: input must be an object/);
    for (const outcome of outcomes) {
      const error = errorOf(outcome);
      assert.equal(error.code, 'PHOTONS_ERR_HANDLER');
      assert.equal(error.name, 'UnrecoverableError');
    }
  });

  it('stops waiting when the job times out', async () => {
    // The longest wait allowed (10 min) outlasts the test's timeout: the run answers only if the
    // timed-out job stopped waiting.
    const [outcome] = await runLocal(SLEEP, [{ ms: 600_000 }], { timeoutMs: 150 });
    assert.equal(errorOf(outcome).code, 'PHOTONS_ERR_TIMEOUT');
  });
});
