// A photon's `globalThis`/`global` is a view whose prototype is the real global: writes stay on the
// view, and everything read through it must behave as on the real global. Fixtures: isolation/view/.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { runLocal } from '../../dispatcher/local-run';
import type { Mode } from '../../photon-worker/types';
import { installFixturePackage } from './fixture-package';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const VIEW = path.join(REPO_ROOT, 'test/fixtures/isolation/view');
const config = loadConfig({ 'log.level': 'warn' });

async function answer(file: string, input: unknown, mode: Mode = 'photon'): Promise<unknown> {
  const [outcome] = await runLocal(path.join(VIEW, file), [input], { mode, config });
  assert.ok(outcome!.ok, JSON.stringify(outcome));
  return outcome!.value;
}

before(installFixturePackage);

describe("a photon's view of the global object", function () {
  this.timeout(30_000);

  it('keeps writes through globalThis and global off the real global', async function () {
    const outcomes = await runLocal(path.join(VIEW, 'private-writes.ts'), [{ user: 'ada' }, { user: 'bob' }], {
      concurrency: 2,
      config,
    });
    assert.deepStrictEqual(
      outcomes.map((o) => (o.ok ? o.value : o.error)),
      [
        { own: 'ada', realUser: null, realCount: null },
        { own: 'bob', realUser: null, realCount: null },
      ],
    );
  });

  // `globalThis.crypto` is an accessor of the real global that checks its receiver: read through
  // the view with the view as receiver, Node would throw ERR_INVALID_THIS.
  it('gives the same Web and Node globals as shared mode (crypto, fetch, URL, Buffer, …)', async function () {
    const shared = (await answer('web-globals.ts', {}, 'shared')) as Record<string, unknown>;
    for (const [name, value] of Object.entries(shared)) {
      assert.ok(!String(value).startsWith('threw'), `shared mode: ${name} ${String(value)}`);
    }
    assert.deepStrictEqual(await answer('web-globals.ts', {}), shared);
  });

  // Without own `globalThis`/`global` properties on the view, `globalThis.globalThis` would be the
  // real global and a write through it would reach every photon.
  it('is its own globalThis.globalThis and global.global, so writes through them stay private', async function () {
    assert.deepStrictEqual(await answer('self-reference.ts', { user: 'ada' }), {
      globalThisIsSelf: true,
      globalIsSelf: true,
      leakedToRealGlobal: false,
    });
  });

  it("runs a JavaScript ES module's code in strict mode", async function () {
    assert.deepStrictEqual(await answer('strict-mode.js', {}), {
      thisInPlainCall: 'undefined',
      undeclaredWrite: 'ReferenceError',
    });
  });

  // esbuild emits "use strict" for a .ts file only when the nearest tsconfig.json sets
  // strict/alwaysStrict; as sloppy code, a bare assignment would create a property of the REAL global
  // (seen by every photon) instead of throwing, and a plain call would get the real global as `this`.
  it("runs a TypeScript ES module's code in strict mode whatever its tsconfig.json says", async function () {
    assert.deepStrictEqual(await answer('plain-project/strict-mode.ts', {}), {
      thisInPlainCall: 'undefined',
      undeclaredWrite: 'ReferenceError',
    });
  });
});
