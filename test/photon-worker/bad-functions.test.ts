// Functions that misbehave (test/fixtures/bad/): each must fail with a stable PHOTONS_ERR_* code and
// a message naming the function and its file, without harming the other jobs of its runtime.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { ErrorCodes, type SerializedError } from '../../errors';
import { runLocal, type LocalOutcome } from '../../dispatcher/local-run';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const BAD = path.join(REPO_ROOT, 'test/fixtures/bad');
// 'fatal': the runtime logs the failures these tests cause on purpose.
const config = loadConfig({ 'log.level': 'fatal' });

const fixture = (name: string): string => path.join(BAD, name);
const nameOf = (file: string): string => path.basename(file).replace(/\.[^.]+$/, '');

/** How callers see a function's file: relative to the functions folder, no path of the server. */
const shown = (file: string): string => path.relative(BAD, file);

/** A user reading the message must learn which function failed and where its file is. */
function assertNamesFunctionAndFile(message: string, file: string): void {
  assert.ok(message.includes(`"${nameOf(file)}"`), `the message does not name the function "${nameOf(file)}": ${message}`);
  assert.ok(message.includes(shown(file)), `the message does not name the file ${shown(file)}: ${message}`);
}

function errorOf(outcome: LocalOutcome | undefined): SerializedError {
  assert.ok(outcome && !outcome.ok, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

/** Where `needle` starts in `file`, as the 1-based `line:column` of a stack frame. */
function positionOf(file: string, needle: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((text) => text.includes(needle));
  assert.ok(line >= 0, `${needle} not found in ${file}`);
  return `${line + 1}:${lines[line]!.indexOf(needle) + 1}`;
}

describe('bad functions', function () {
  this.timeout(30_000);

  it('a missing file: PHOTONS_ERR_FUNCTION_NOT_FOUND naming the file', async function () {
    const file = fixture('does-not-exist.ts');
    await assert.rejects(runLocal(file, [{}], { config }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, ErrorCodes.FUNCTION_NOT_FOUND);
      assert.ok(err.message.includes(file), err.message);
      return true;
    });
  });

  it('a syntax error: PHOTONS_ERR_BUNDLE naming the function, the file and the line', async function () {
    const file = fixture('syntax-error.ts');
    await assert.rejects(runLocal(file, [{ n: 1 }], { config }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, ErrorCodes.BUNDLE);
      assertNamesFunctionAndFile(err.message, file);
      assert.match(err.message, /syntax-error\.ts:3:\d+/);
      return true;
    });
  });

  it('a throw at module top level: every job fails with PHOTONS_ERR_FUNCTION_INIT at the throwing line', async function () {
    const file = fixture('top-level-throw.ts');
    const outcomes = await runLocal(file, [{}, {}, {}], { concurrency: 3, config });
    assert.equal(outcomes.length, 3);
    for (const outcome of outcomes) {
      const error = errorOf(outcome);
      assert.equal(error.code, ErrorCodes.FUNCTION_INIT);
      assertNamesFunctionAndFile(error.message, file);
      assert.ok(error.message.includes('setting FIXTURE_ENDPOINT is not set'), error.message);
      assert.ok(error.stack?.includes(`${shown(file)}:${positionOf(file, 'new Error(')}`), error.stack);
    }
  });

  it('a module top level that never returns: every job fails with PHOTONS_ERR_FUNCTION_INIT, no endless restarts', async function () {
    const file = fixture('top-level-loop.ts');
    const outcomes = await runLocal(file, [{}, {}], {
      concurrency: 2,
      config: loadConfig({ 'log.level': 'fatal', 'runtime.startTimeoutMs': 500 }),
    });
    for (const outcome of outcomes) {
      const error = errorOf(outcome);
      assert.equal(error.code, ErrorCodes.FUNCTION_INIT);
      assertNamesFunctionAndFile(error.message, file);
      assert.match(error.message, /did not finish loading within 500 ms/);
    }
  });

  for (const name of ['no-default.ts', 'default-not-function.ts']) {
    it(`no default export function (${name}): PHOTONS_ERR_NO_HANDLER`, async function () {
      const file = fixture(name);
      const outcomes = await runLocal(file, [{ n: 1 }, { n: 2 }], { concurrency: 2, config });
      for (const outcome of outcomes) {
        const error = errorOf(outcome);
        assert.equal(error.code, ErrorCodes.NO_HANDLER);
        assert.match(error.message, /no default export function and no function named `handler`/);
        assertNamesFunctionAndFile(error.message, file);
      }
    });
  }

  it('a class as the default export: PHOTONS_ERR_NO_HANDLER saying a handler is a function', async function () {
    const file = fixture('class-handler.ts');
    const [outcome] = await runLocal(file, [{ n: 1 }], { concurrency: 1, config });
    const error = errorOf(outcome);
    assert.equal(error.code, ErrorCodes.NO_HANDLER);
    assert.match(error.message, /exports a class as its handler/);
    assertNamesFunctionAndFile(error.message, file);
  });

  it('a job that calls process.exit(): its runtime dies, the message gives the exit code and says what to do instead', async function () {
    const [outcome] = await runLocal(fixture('process-exit.ts'), [{ code: 7 }], { concurrency: 1, config });
    const error = errorOf(outcome);
    assert.equal(error.code, ErrorCodes.POISON, 'present at two deaths');
    assert.match(error.message, /exit code 7: the function, or a package it loads, called process\.exit\(\)\. Return a result or throw an error instead/);
  });

  for (const [name, key] of [
    ['config-unknown-key.ts', 'retries'],
    ['config-negative-timeout.ts', 'timeoutMs'],
    ['config-job-log-level.ts', 'jobLogLevel'],
    ['config-rate-limit-shape.ts', 'rateLimit must be { max: <jobs>, durationMs: <window in ms> }'],
    ['config-rate-limit-max.ts', 'rateLimit.max must be an integer from 1'],
    ['config-max-concurrency.ts', 'maxConcurrency must be an integer from 1'],
  ] as const) {
    it(`an invalid export const config (${name}): PHOTONS_ERR_FUNCTION_CONFIG naming the key`, async function () {
      const file = fixture(name);
      const outcomes = await runLocal(file, [{ n: 1 }, { n: 2 }], { concurrency: 2, config });
      for (const outcome of outcomes) {
        const error = errorOf(outcome);
        assert.equal(error.code, ErrorCodes.FUNCTION_CONFIG);
        assertNamesFunctionAndFile(error.message, file);
        assert.ok(error.message.includes(key), error.message);
      }
    });
  }

  describe('a result that is not JSON', function () {
    const file = fixture('not-json.ts');
    const kinds = ['ok', 'bigint', 'ok', 'function', 'circular', 'ok', 'symbol', 'nested-bigint', 'ok'];
    let outcomes: LocalOutcome[];
    before(async function () {
      outcomes = await runLocal(
        file,
        kinds.map((kind, n) => ({ kind, n })),
        { concurrency: kinds.length, config },
      );
    });

    it('fails that job with PHOTONS_ERR_RESULT_NOT_JSON; the other jobs get their values', function () {
      kinds.forEach((kind, n) => {
        if (kind === 'ok') assert.deepStrictEqual(outcomes[n], { index: n, ok: true, value: { n } });
        else assert.equal(errorOf(outcomes[n]).code, ErrorCodes.RESULT_NOT_JSON, kind);
      });
    });

    // The author must find the file to fix, not only the function's name and the job.
    it('names the function and the file', function () {
      kinds.forEach((kind, n) => {
        if (kind !== 'ok') assertNamesFunctionAndFile(errorOf(outcomes[n]).message, file);
      });
    });
  });

  describe('a throw of something that is not an Error', function () {
    const file = fixture('throws.ts');
    const kinds = ['ok', 'string', 'object', 'ok', 'null', 'number', 'error', 'ok'];
    let outcomes: LocalOutcome[];
    before(async function () {
      outcomes = await runLocal(
        file,
        kinds.map((kind, n) => ({ kind, n })),
        { concurrency: kinds.length, config },
      );
    });

    it('fails that job with PHOTONS_ERR_NON_ERROR_THROWN showing the value; the other jobs get their values', function () {
      assert.deepStrictEqual(outcomes[0], { index: 0, ok: true, value: { n: 0 } });
      assert.deepStrictEqual(outcomes[3], { index: 3, ok: true, value: { n: 3 } });
      assert.deepStrictEqual(outcomes[7], { index: 7, ok: true, value: { n: 7 } });
      const shown: Record<number, string> = { 1: '"no stock for item 1"', 2: '"reason":"no stock"', 4: 'null', 5: '42' };
      for (const [n, text] of Object.entries(shown)) {
        const error = errorOf(outcomes[Number(n)]);
        assert.equal(error.code, ErrorCodes.NON_ERROR_THROWN);
        assert.ok(error.message.includes(text), error.message);
      }
      // A real Error keeps its own message and class, under the handler code.
      const thrown = errorOf(outcomes[6]);
      assert.equal(thrown.code, ErrorCodes.HANDLER);
      assert.equal(thrown.message, 'no stock for item 6');
    });

    // The author must find the file to fix, not only the function's name.
    it('names the function and the file', function () {
      for (const n of [1, 2, 4, 5]) assertNamesFunctionAndFile(errorOf(outcomes[n]).message, file);
    });
  });

  describe('a handler that ignores its timeout (config.timeoutMs 200, never answers, ignores ctx.signal)', function () {
    const file = fixture('ignores-timeout.ts');
    const hangs = [false, true, false, false, true, false];
    let outcomes: LocalOutcome[];
    const order: number[] = [];
    before(async function () {
      outcomes = await runLocal(
        file,
        hangs.map((hang, n) => ({ hang, n })),
        {
          concurrency: hangs.length,
          config,
          onOutcome: (outcome) => order.push(outcome.index),
        },
      );
    });

    it('fails that job with PHOTONS_ERR_TIMEOUT giving the timeout; the other jobs answer first', function () {
      hangs.forEach((hang, n) => {
        if (!hang) {
          assert.deepStrictEqual(outcomes[n], { index: n, ok: true, value: { n } });
          return;
        }
        const error = errorOf(outcomes[n]);
        assert.equal(error.code, ErrorCodes.TIMEOUT);
        assert.ok(error.message.includes('200 ms'), error.message);
      });
      // The good jobs did not wait for the hanging ones.
      assert.deepStrictEqual(order.slice(-2).sort(), [1, 4]);
    });

    // The author must find the file to fix, not only the function's name and the job.
    it('names the function and the file', function () {
      assertNamesFunctionAndFile(errorOf(outcomes[1]).message, file);
    });
  });

  it('an error that escapes its job (timer throw, unhandled rejection) harms no job of the runtime', async function () {
    const kinds = ['ok', 'timer-throw', 'ok', 'unhandled-rejection', 'ok'];
    const outcomes = await runLocal(
      fixture('escapes.ts'),
      kinds.map((kind, n) => ({ kind, n })),
      {
        concurrency: kinds.length,
        config,
      },
    );
    assert.deepStrictEqual(
      outcomes,
      kinds.map((_, n) => ({ index: n, ok: true, value: { n } })),
    );
  });

  // The watchdog replaces the runtime; the jobs that were in it with the busy one are innocent and
  // must be run again in the new runtime rather than failed with PHOTONS_ERR_RUNTIME_DIED.
  it('a handler that blocks the event loop: the watchdog fails that job, the other jobs still get their values', async function () {
    const file = fixture('busy-loop.ts');
    const busy = [false, true, false, false];
    const outcomes = await runLocal(
      file,
      busy.map((b, n) => ({ busy: b, n })),
      {
        concurrency: busy.length,
        config: loadConfig({ 'log.level': 'fatal', 'runtime.watchdogMs': 300 }),
      },
    );
    const error = errorOf(outcomes[1]);
    assert.ok([ErrorCodes.RUNTIME_DIED, ErrorCodes.POISON].includes(error.code as never), error.code);
    assert.ok(error.message.includes(`"${nameOf(file)}"`), error.message);
    assert.deepStrictEqual(
      outcomes.filter((_, n) => !busy[n]),
      [0, 2, 3].map((n) => ({ index: n, ok: true, value: { n } })),
    );
  });

  // An input that structured clone refuses (a function) must not throw out of the pool's flush and
  // leave the whole run unanswered; an input that clones but is not JSON (a BigInt) must not reach
  // the handler either, since a queued job could never carry it.
  it('an input that is not JSON: that job fails with PHOTONS_ERR_INPUT_NOT_JSON, the others run', async function () {
    const outcomes = await runLocal(fixture('echo.ts'), [{ a: 1 }, { f: () => 1 }, 10n, { b: 2 }], {
      concurrency: 4,
      config,
    });
    assert.deepStrictEqual(outcomes[0], { index: 0, ok: true, value: { input: { a: 1 } } });
    assert.equal(errorOf(outcomes[1]).code, ErrorCodes.INPUT_NOT_JSON);
    assert.equal(errorOf(outcomes[2]).code, ErrorCodes.INPUT_NOT_JSON);
    assert.deepStrictEqual(outcomes[3], { index: 3, ok: true, value: { input: { b: 2 } } });
  });
});

describe('stack traces of a bundled .ts function', function () {
  this.timeout(30_000);

  it("point at the author's files, lines and columns, helper file included", async function () {
    const file = fixture('stack-trace.ts');
    const helper = fixture('lib/parse-amount.ts');
    const outcomes = await runLocal(file, [{ amounts: ['1.50', '2'] }, { amounts: ['1', 'ten'] }], { concurrency: 2, config });
    assert.deepStrictEqual(outcomes[0], { index: 0, ok: true, value: 350 });
    const error = errorOf(outcomes[1]);
    assert.equal(error.code, ErrorCodes.HANDLER);
    assert.equal(error.name, 'RangeError');
    assert.equal(error.message, '"ten" is not an amount');
    const stack = error.stack ?? '';
    // The throw in the helper, then the call in the function file; no frame left in the bundle.
    const thrownAt = `${shown(helper)}:${positionOf(helper, 'new RangeError(')}`;
    const calledAt = `${shown(file)}:${positionOf(file, 'parseAmount(text)')}`;
    assert.ok(stack.includes(thrownAt), `no ${thrownAt} in\n${stack}`);
    assert.ok(stack.includes(calledAt), `no ${calledAt} in\n${stack}`);
    assert.ok(stack.indexOf(thrownAt) < stack.indexOf(calledAt), stack);
    assert.ok(!stack.includes('.bundle.js'), stack);
  });
});
