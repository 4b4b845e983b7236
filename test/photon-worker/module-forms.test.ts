// Functions written as ES modules are written (test/fixtures/modules/): top-level await, import.meta
// and packages that ship only as ES modules, run through the runtime pool as the dispatcher runs them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../config';
import { ErrorCodes, type SerializedError } from '../../errors';
import { findFunctionFiles } from '../../dispatcher/catalog';
import { runLocal, type LocalOutcome } from '../../dispatcher/local-run';
import { bundleFunction } from '../../photon-worker/bundle';
import { FunctionCode } from '../../photon-worker/photon';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const MODULES = path.join(REPO_ROOT, 'test/fixtures/modules');
const config = loadConfig({ 'log.level': 'fatal' });
const fixture = (name: string): string => path.join(MODULES, name);
const BESIDE = readFileSync(fixture('data.txt'), 'utf8').trim();

function valuesOf<T>(outcomes: LocalOutcome[]): T[] {
  return outcomes.map((outcome) => {
    assert.ok(outcome.ok, `job ${outcome.index} failed: ${JSON.stringify(outcome)}`);
    return outcome.value as T;
  });
}

function errorOf(outcome: LocalOutcome | undefined): SerializedError {
  assert.ok(outcome && !outcome.ok, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

describe('module forms', function () {
  this.timeout(30_000);

  describe('top-level await', function () {
    it('gives every job its own module instance: a counter incremented after an await is 1 in each of 300 concurrent jobs', async function () {
      const inputs = Array.from({ length: 300 }, (_, n) => ({ n }));
      const outcomes = await runLocal(fixture('tla-counter.ts'), inputs, { concurrency: 100, config });
      const values = valuesOf<{ n: number; count: number; loadedAt: number }>(outcomes);
      assert.deepEqual(
        values.map((v) => v.n),
        inputs.map((i) => i.n),
      );
      for (const value of values) {
        assert.equal(value.count, 1, `job ${value.n} shared a module instance: ${JSON.stringify(value)}`);
        assert.equal(value.loadedAt, 1);
      }
    });

    it('works with import.meta and an ES-only package in the same module', async function () {
      const outcomes = await runLocal(fixture('tla-meta.ts'), [{}, {}, {}], { concurrency: 3, config });
      for (const value of valuesOf<{ text: string; inside: boolean }>(outcomes)) {
        assert.deepEqual(value, { text: BESIDE, inside: true });
      }
    });

    it('takes every form of package import: default, namespace, named, aliased, side effect, dynamic, through a local file', async function () {
      const outcomes = await runLocal(fixture('tla-imports.ts'), [{}, {}], { concurrency: 2, config });
      for (const value of valuesOf(outcomes)) {
        assert.deepEqual(value, { inside: true, exists: true, sep: true, digest: 40, uuid: 36, joined: path.join('a', 'b'), parsed: { a: 1 } });
      }
    });

    it('a top-level promise that rejects: every job fails with PHOTONS_ERR_FUNCTION_INIT, its message and the line', async function () {
      const file = fixture('tla-rejects.ts');
      const outcomes = await runLocal(file, [{}, {}, {}], { concurrency: 3, config });
      assert.equal(outcomes.length, 3);
      for (const outcome of outcomes) {
        const error = errorOf(outcome);
        assert.equal(error.code, ErrorCodes.FUNCTION_INIT);
        assert.ok(error.message.includes('"tla-rejects"') && error.message.includes(path.basename(file)), error.message);
        assert.ok(error.message.includes('fixture database refused the connection'), error.message);
        assert.match(error.message, /top-level await/);
        assert.ok(error.stack?.includes(`${path.basename(file)}:3:`), error.stack);
      }
    });

    it('a top level that never settles: jobs fail with PHOTONS_ERR_FUNCTION_INIT pointing at ctx.shared, the run ends', async function () {
      const file = fixture('tla-never.ts');
      const outcomes = await runLocal(file, [{}, {}], {
        concurrency: 2,
        config: loadConfig({ 'log.level': 'fatal', 'job.timeoutMs': 500 }),
      });
      for (const outcome of outcomes) {
        const error = errorOf(outcome);
        assert.equal(error.code, ErrorCodes.FUNCTION_INIT);
        assert.ok(error.message.includes(path.basename(file)), error.message);
        assert.match(error.message, /still running after 500 ms/);
        assert.match(error.message, /ctx\.shared/);
      }
    });

    it('a job whose own top level outlasts its timeout: PHOTONS_ERR_TIMEOUT saying to move the set-up into ctx.shared', async function () {
      const outcomes = await runLocal(fixture('tla-slow.ts'), [{}, {}], { concurrency: 2, config });
      for (const outcome of outcomes) {
        const error = errorOf(outcome);
        assert.equal(error.code, ErrorCodes.TIMEOUT);
        assert.match(error.message, /top level \(top-level await\) was still running after 300 ms/);
        assert.match(error.message, /ctx\.shared/);
      }
    });
  });

  describe('the handler', function () {
    it("takes a function exported as `handler` when there is no default export (AWS Lambda's form), a fresh module per job", async function () {
      const outcomes = await runLocal(fixture('lambda-handler.ts'), [{ n: 1 }, { n: 2 }, { n: 3 }], { concurrency: 3, config });
      assert.deepEqual(valuesOf(outcomes), [
        { n: 1, calls: 1 },
        { n: 2, calls: 1 },
        { n: 3, calls: 1 },
      ]);
      const cjs = await runLocal(fixture('lambda-handler-cjs.js'), [{ n: 21 }], { concurrency: 1, config });
      assert.deepEqual(valuesOf(cjs), [{ doubled: 42 }]);
    });

    it("tells a handler the time it has left before its timeout, as Lambda's context does", async function () {
      const [value] = valuesOf<{ before: number; after: number }>(await runLocal(fixture('lambda-remaining-time.ts'), [{}], { concurrency: 1, config }));
      assert.ok(value!.before > 4_500 && value!.before <= 5_000, `before: ${value!.before} ms of config.timeoutMs 5000`);
      assert.ok(value!.before - value!.after >= 190, `200 ms later: ${value!.after}`);
    });

    it('waits for a returned thenable as await does: its value is the result, its rejection the failure', async function () {
      const inputs = [
        { kind: 'thenable', n: 1 },
        { kind: 'plain', n: 2 },
        { kind: 'rejects', n: 3 },
      ];
      const [resolved, plain, rejected] = await runLocal(fixture('thenable.ts'), inputs, { concurrency: 3, config });
      assert.deepEqual(resolved, { index: 0, ok: true, value: { resolved: 1 } });
      assert.deepEqual(plain, { index: 1, ok: true, value: { plain: 2 } });
      assert.equal(rejected!.ok, false);
      assert.match(rejected!.ok ? '' : rejected!.error.message, /thenable 3 rejected/);
    });

    it('prefers the default export to a `handler` export', async function () {
      const outcomes = await runLocal(fixture('default-and-handler.ts'), [{}], { concurrency: 1, config });
      assert.deepEqual(valuesOf(outcomes), ['default']);
    });
  });

  describe('exports', function () {
    it("hands an ES module's exports to CommonJS as esbuild does, a fresh module per job", async function () {
      const outcomes = await runLocal(fixture('requires-esm.cjs'), [{}, {}, {}], { concurrency: 3, config });
      for (const value of valuesOf(outcomes)) {
        assert.deepEqual(value, { joined: path.join('a', 'b'), same: true, esModule: true, keys: ['joined'], calls: 1 });
      }
    });

    it('runs a module that exports a binding named __esModule', async function () {
      const outcomes = await runLocal(fixture('esmodule-export.ts'), [{}, {}], { concurrency: 2, config });
      assert.deepEqual(valuesOf(outcomes), [{ calls: 1 }, { calls: 1 }]);
    });
  });

  describe('JSX', function () {
    it('bundles .tsx and .jsx functions, and the functions folder serves them', async function () {
      const tsx = await runLocal(fixture('jsx-greeting.tsx'), [{ name: 'Ada' }], { concurrency: 1, config });
      assert.deepEqual(valuesOf(tsx), [{ tag: 'p', props: { class: 'greeting' }, children: ['hello ', 'Ada'] }]);
      const jsx = await runLocal(fixture('jsx-list.jsx'), [{ items: ['a', 'b'] }], { concurrency: 1, config });
      assert.deepEqual(valuesOf(jsx), [
        {
          tag: 'ul',
          children: [
            [
              { tag: 'li', children: ['a'] },
              { tag: 'li', children: ['b'] },
            ],
          ],
        },
      ]);
      const files = await findFunctionFiles(MODULES);
      assert.equal(files.get('jsx-greeting'), fixture('jsx-greeting.tsx'));
      assert.equal(files.get('jsx-list'), fixture('jsx-list.jsx'));
    });
  });

  describe('import.meta', function () {
    it('new URL(file, import.meta.url) reads files beside the function', async function () {
      const file = fixture('meta-url.ts');
      const outcomes = await runLocal(file, [{}, {}], { concurrency: 2, config });
      for (const value of valuesOf<{ text: string; answer: number; url: string }>(outcomes)) {
        assert.deepEqual(value, { text: BESIDE, answer: 42, url: pathToFileURL(file).href });
      }
    });

    it('import.meta.dirname and .filename name the source file; __dirname still works', async function () {
      const file = fixture('meta-dirname.ts');
      const outcomes = await runLocal(file, [{}, {}], { concurrency: 2, config });
      for (const value of valuesOf<Record<string, unknown>>(outcomes)) {
        assert.deepEqual(value, {
          text: BESIDE,
          sameDir: true,
          viaDirname: BESIDE,
          filename: file,
          wholeMetaUrl: pathToFileURL(file).href,
        });
      }
    });

    it('import.meta.resolve is refused at bundling with PHOTONS_ERR_BUNDLE saying what to write instead', async function () {
      await assert.rejects(runLocal(fixture('meta-resolve.ts'), [{}], { config }), (err: { code?: string; message: string }) => {
        assert.equal(err.code, ErrorCodes.BUNDLE);
        assert.match(err.message, /import\.meta\.resolve/);
        assert.match(err.message, /require\.resolve/);
        return true;
      });
    });
  });

  it('an ES-only package in node_modules still loads in a module without top-level await', async function () {
    const outcomes = await runLocal(fixture('esm-only-package.ts'), [{ json: '{"a": 1 /* note */}' }], { config });
    assert.deepEqual(valuesOf(outcomes), [{ inside: true, parsed: { a: 1 } }]);
  });

  it('a module without top-level await keeps the synchronous path; one with it is loaded asynchronously', async function () {
    const plain = await bundleFunction(fixture('meta-url.ts'));
    const code = new FunctionCode(plain.name, plain.file, plain.code);
    assert.equal(code.async, false);
    const instance = code.load(code.globalView(), console);
    assert.ok(!(instance instanceof Promise));
    assert.equal(typeof instance.handler, 'function');

    const tla = await bundleFunction(fixture('tla-counter.ts'));
    const asyncCode = new FunctionCode(tla.name, tla.file, tla.code);
    assert.equal(asyncCode.async, true);
    const loaded = asyncCode.load(asyncCode.globalView(), console);
    assert.ok(loaded instanceof Promise);
    assert.equal((await loaded).config.timeoutMs, 10_000);
    assert.throws(() => asyncCode.instantiate(asyncCode.globalView(), console), { code: ErrorCodes.FUNCTION_INIT });
  });
});
