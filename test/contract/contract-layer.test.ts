// The contract layer: producers and dispatchers meet only in contract/, the rules every door
// checks are the same rules, and the client entry loads what a client needs, nothing more.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MAX_FUNCTION_NAME_LENGTH, MAX_JOB_ID_LENGTH } from '../../contract/rules';
import { ErrorCodes, PhotonsError } from '../../errors';
import { bundleFunction } from '../../photon-worker/bundle';
import { fnField, jobIdParams } from '../../producer/api/schemas';
import { assertFunctionName } from '../../producer/validate';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** The import specifiers of every .ts file under `dir` (relative to the repository). */
function importsUnder(dir: string): Array<{ file: string; from: string }> {
  const found: Array<{ file: string; from: string }> = [];
  for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.relative(REPO_ROOT, path.join(entry.parentPath, entry.name));
    for (const match of readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm))
      found.push({ file, from: match[1]! });
  }
  return found;
}

/** What requiring `module` (from the repository's dist/) loads, among the heavy dependencies. */
function heavyLoadedBy(module: string): string[] {
  const script = `require(${JSON.stringify(module)}); const loaded = Object.keys(require.cache);
    console.log(JSON.stringify(['esbuild', 'convict', 'fastify', 'prom-client'].filter((n) => loaded.some((k) => k.includes('/node_modules/' + n + '/')))));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' })) as string[];
}

describe('the contract layer', () => {
  it('producer/ and index.ts import nothing of dispatcher/, and dispatcher/ nothing of producer/', () => {
    const producerSide = [...importsUnder('producer'), ...importsUnder('.').filter((i) => i.file === 'index.ts')].filter((i) =>
      /(^|\/)dispatcher\//.test(i.from),
    );
    assert.deepEqual(producerSide, []);
    assert.deepEqual(
      importsUnder('dispatcher').filter((i) => /(^|\/)producer\//.test(i.from)),
      [],
    );
  });

  it('contract/ imports neither side, and monitoring/ only the contract', () => {
    assert.deepEqual(
      importsUnder('contract').filter((i) => /(^|\/)(producer|dispatcher|cli)\//.test(i.from)),
      [],
    );
    assert.deepEqual(
      importsUnder('monitoring').filter((i) => /(^|\/)(producer|dispatcher|cli)\//.test(i.from)),
      [],
    );
  });

  it('no file outside contract/keys.ts spells a key of ours', () => {
    const offenders = ['producer', 'dispatcher', 'cli', 'monitoring', 'contract'].flatMap((dir) =>
      readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => path.join(dir, f))
        .filter((file) => file !== path.join('contract', 'keys.ts'))
        .filter((file) => /__photons|photonsKey\(/.test(readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/^\s*(\/\/|\*).*$/gm, ''))),
    );
    assert.deepEqual(offenders, []);
  });

  it('the client entry loads neither the bundler nor the config library; photons/config has loadConfig', () => {
    assert.deepEqual(heavyLoadedBy('./dist/index.js'), []);
    const script = "console.log(typeof require('./dist/config/index.js').loadConfig, 'loadConfig' in require('./dist/index.js'))";
    assert.equal(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(), 'function false');
  });
});

describe('one function name rule for the client, the HTTP API and the bundler', () => {
  const longest = `f${'x'.repeat(MAX_FUNCTION_NAME_LENGTH - 1)}`;
  const tooLong = `${longest}y`;

  it('the client takes a name of the longest length and refuses one longer, saying the limit', () => {
    assertFunctionName(longest);
    assert.throws(
      () => assertFunctionName(tooLong),
      (err: unknown) =>
        err instanceof PhotonsError && err.code === ErrorCodes.INVALID_FUNCTION_NAME && err.message.includes(`1 to ${MAX_FUNCTION_NAME_LENGTH}`),
    );
  });

  it("the API's schemas bound names and job ids by the same lengths", () => {
    assert.equal(fnField.maxLength, MAX_FUNCTION_NAME_LENGTH);
    assert.equal(jobIdParams.properties.jobId.maxLength, MAX_JOB_ID_LENGTH);
  });

  it('the bundler takes the file the client would take and refuses the one it would refuse', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'photons-names-'));
    try {
      for (const name of [longest, tooLong]) writeFileSync(path.join(dir, `${name}.ts`), 'export default async (input: unknown) => input;\n');
      assert.equal((await bundleFunction(path.join(dir, `${longest}.ts`))).name, longest);
      await assert.rejects(bundleFunction(path.join(dir, `${tooLong}.ts`)), (err: unknown) => {
        return err instanceof PhotonsError && err.code === ErrorCodes.BUNDLE && err.message.includes(`1 to ${MAX_FUNCTION_NAME_LENGTH}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
