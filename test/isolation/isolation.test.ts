// The isolation oracle: every job of a function, run among 60 concurrent jobs in one runtime, must
// get the answer its input gets when run alone in a fresh runtime. Corpus: test/fixtures/isolation/.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { runLocal, type LocalOutcome } from '../../dispatcher/local-run';
import type { Mode } from '../../photon-worker/types';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/isolation');
const config = loadConfig({ 'log.level': 'warn' });

/** Every function module at the top of the corpus folder (helpers live in lib/, data/, limits/). */
const fixtures = readdirSync(FIXTURES)
  .filter((name) => /\.(ts|js)$/.test(name))
  .sort();

interface IsolationInput {
  user: string;
  n: number;
  delay: number;
  items: string[];
}

// Distinct inputs, each solo-run once per fixture in a fresh runtime (a runtime start costs tens of
// milliseconds, so the oracle is paid per distinct input, not per job). Delays 0..11 ms, all different.
const DISTINCT = 12;
const bases: IsolationInput[] = Array.from({ length: DISTINCT }, (_, k) => ({
  user: `user-${k}`,
  n: k + 1,
  delay: (k * 5) % DISTINCT,
  items: [`item-${k}-a`, `item-${k}-b`, 'common'],
}));
// 60 concurrent jobs: each distinct input five times, in a scrambled order.
const JOBS = 60;
const baseOf = (job: number): number => (job * 7) % DISTINCT;
const jobs: IsolationInput[] = Array.from({ length: JOBS }, (_, j) => bases[baseOf(j)]!);

/** Answer per distinct input, per fixture, each from a runtime that ran that one job only. */
const soloAnswers = new Map<string, unknown[]>();

async function runConcurrent(fixture: string, mode: Mode): Promise<LocalOutcome[]> {
  return runLocal(path.join(FIXTURES, fixture), jobs, { concurrency: JOBS, mode, config });
}

/** The jobs whose answer differs from their input's solo answer (a failed job counts as differing). */
function mismatches(fixture: string, outcomes: LocalOutcome[]): string[] {
  const solo = soloAnswers.get(fixture)!;
  const wrong: string[] = [];
  outcomes.forEach((outcome, j) => {
    const expected = solo[baseOf(j)];
    const got = outcome.ok ? outcome.value : outcome.error;
    let same = outcome.ok;
    try {
      assert.deepStrictEqual(got, expected);
    } catch {
      same = false;
    }
    if (!same) wrong.push(`job ${j} (${jobs[j]!.user}): got ${JSON.stringify(got)}, alone ${JSON.stringify(expected)}`);
  });
  return wrong;
}

async function inParallel<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

describe('isolation corpus: concurrent jobs get their solo answers', function () {
  this.timeout(120_000);

  before(async function () {
    // The reference is `lambda` mode with one input: a plain module load in a fresh runtime, no
    // photon machinery involved, "as if it were the only job its runtime ever ran".
    const tasks = fixtures.flatMap((fixture) =>
      bases.map((input) => async () => {
        const [outcome] = await runLocal(path.join(FIXTURES, fixture), [input], { mode: 'lambda', config });
        return { fixture, outcome: outcome! };
      }),
    );
    for (const fixture of fixtures) soloAnswers.set(fixture, []);
    const results = await inParallel(tasks, 4);
    results.forEach(({ fixture, outcome }, i) => {
      assert.ok(outcome.ok, `${fixture} fails when run alone: ${JSON.stringify(outcome)}`);
      soloAnswers.get(fixture)![i % DISTINCT] = outcome.value;
    });
  });

  it('has at least 12 fixtures', function () {
    assert.ok(fixtures.length >= 12, `only ${fixtures.length} fixtures: ${fixtures.join(', ')}`);
  });

  for (const fixture of fixtures) {
    // global-nullish.ts checks the case explained at the end of this file.
    it(`photon mode: ${fixture}`, async function () {
      const outcomes = await runConcurrent(fixture, 'photon');
      const wrong = mismatches(fixture, outcomes);
      assert.deepStrictEqual(wrong.slice(0, 3), [], `${wrong.length} of ${JOBS} jobs differ from their solo answer`);
    });
  }

  it('shared mode (one module instance for all jobs) gets at least 10 fixtures wrong', async function () {
    const wrongIn: string[] = [];
    for (const fixture of fixtures) {
      const outcomes = await runConcurrent(fixture, 'shared');
      if (mismatches(fixture, outcomes).length > 0) wrongIn.push(fixture);
    }
    const rightIn = fixtures.filter((f) => !wrongIn.includes(f));
    assert.ok(wrongIn.length >= 10, `shared mode got only ${wrongIn.length} wrong; right: ${rightIn.join(', ')}`);
    // Every fixture is there to catch shared state: one that shared mode gets right proves nothing.
    assert.deepStrictEqual(rightIn, []);
  });
});

// global-nullish.ts (photon mode): `globalThis.sessionRegistry ??= new Map()` must give each photon
// its own Map. Were the runtime's check of the handler and config to load the module with the REAL
// globalThis, that load would set the property on the real global; each photon's view would then
// find it through its prototype, `??=` would keep that Map and all photons would share it.
