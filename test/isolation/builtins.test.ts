// Protected builtins: a job's change to a shared builtin is never seen by another job of the
// runtime, common code keeps working once builtins are frozen, and config.protectBuiltins: false
// opts out. Fixtures: test/fixtures/isolation/builtins/.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { runLocal, type LocalOutcome } from '../../dispatcher/local-run';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const BUILTINS = path.join(REPO_ROOT, 'test/fixtures/isolation/builtins');
const REDIS_URL = process.env.PHOTONS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const config = loadConfig({ 'log.level': 'error' });

const UNTOUCHED = {
  stringify: '{"a":1}',
  includes: true,
  mapGet: 'one',
  promiseTampered: false,
  max: 2,
  realJson: '{"a":1}',
  realX: null,
  objectProto: null,
  objectConstructor: 'Object',
};

function valuesOf(outcomes: LocalOutcome[]): unknown[] {
  return outcomes.map((outcome) => (outcome.ok ? outcome.value : { failed: outcome.error }));
}

describe('protected builtins', function () {
  this.timeout(60_000);

  it('a job cannot change JSON, prototypes, Math or the real global for the jobs after it', async function () {
    // One runtime, one job at a time: the tampering job runs first, the others after it.
    const outcomes = await runLocal(path.join(BUILTINS, 'tamper.ts'), [{}, { tamper: true }, {}, {}], { config });
    const [before, tamper, ...after] = valuesOf(outcomes);
    assert.deepStrictEqual(before, UNTOUCHED);
    assert.deepStrictEqual(tamper, {
      'JSON.stringify': 'refused (TypeError)',
      'Array.prototype.includes': 'refused (TypeError)',
      'Map.prototype.get': 'refused (TypeError)',
      'Promise.prototype.then': 'refused (TypeError)',
      'Math.max': 'refused (TypeError)',
      'real global JSON': 'refused (TypeError)',
      // A new name on the real global is not refused (packages add globals as they run); see the next test.
      'real global x': 'applied',
      'globalThis.constructor.prototype': 'refused (TypeError)',
      // Stays writable (util.inspect needs a data property), and is put back when the job settles.
      'Object.prototype.constructor': 'applied',
    });
    for (const value of after) assert.deepStrictEqual(value, { ...UNTOUCHED, realX: 'tampered' });
  });

  it('jobs running at the same time as the tampering job see the builtins untouched', async function () {
    const inputs = [{ tamper: true }, ...Array.from({ length: 20 }, () => ({}))];
    const outcomes = await runLocal(path.join(BUILTINS, 'tamper.ts'), inputs, { concurrency: inputs.length, config });
    for (const value of valuesOf(outcomes).slice(1)) {
      const seen = value as typeof UNTOUCHED;
      // Object.prototype.constructor and a new real-global name may be seen while the tamperer runs: the limits.
      assert.deepStrictEqual({ ...seen, realX: null, objectConstructor: 'Object' }, UNTOUCHED);
    }
  });

  it('opted out (config.protectBuiltins: false): patches are applied and shared, yet the runtime still encodes every result right', async function () {
    const outcomes = await runLocal(path.join(BUILTINS, 'tamper-unprotected.ts'), [{ tamper: true }, {}], { config });
    const [tamper, after] = valuesOf(outcomes) as [Record<string, string>, typeof UNTOUCHED];
    for (const [name, how] of Object.entries(tamper)) assert.equal(how, 'applied', name);
    // The job after it sees the patches (that is what opting out means)…
    assert.equal(after.stringify, '"tampered"');
    assert.equal(after.includes, false);
    assert.equal(after.mapGet, 'tampered');
    assert.equal(after.max, -1);
    // …but its result still reached us as the object it returned, not as the patched JSON's "tampered":
    // the runtime encodes with the JSON.stringify it captured before any function code ran.
    assert.equal(typeof after, 'object');
    assert.equal(after.objectConstructor, 'Tampered'); // not put back either: nothing is, opted out
  });

  it('common code keeps working once builtins are frozen (override mistake, Error subclasses, packages, Node globals)', async function () {
    const [outcome] = await runLocal(path.join(BUILTINS, 'patterns.ts'), [{ redisUrl: REDIS_URL }], { config });
    assert.ok(outcome!.ok, JSON.stringify(outcome));
    const report = outcome!.value as Record<string, unknown>;
    assert.equal(report.builtinsFrozen, true);
    delete report.builtinsFrozen;
    for (const [pattern, result] of Object.entries(report)) assert.equal(result, 'ok', pattern);
    assert.ok(Object.keys(report).length >= 15);
  });

  it('refuses a protectBuiltins that is not a boolean, naming the key', async function () {
    const [outcome] = await runLocal(path.join(BUILTINS, 'bad-config.ts'), [{}], { config });
    assert.ok(!outcome!.ok);
    assert.equal(outcome!.error.code, 'PHOTONS_ERR_FUNCTION_CONFIG');
    assert.match(outcome!.error.message, /protectBuiltins must be true or false, got "no"/);
  });
});
