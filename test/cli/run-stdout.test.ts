// `photons run … > out.jsonl` must give JSONL: result lines only on stdout; the function's console
// output, its ctx.log lines and the runtime's own logs go to stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');

const CHATTY = `export default async function chatty(input: { n: number }, ctx: { log: { info(msg: string): void } }) {
  console.log('console says hello', input.n);
  ctx.log.info('ctx log says hello');
  if (input.n === 2) throw new Error('two is refused');
  return { n: input.n };
}
`;

describe('photons run: stdout carries only results', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'photons-run-stdout-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['photon', 'shared', 'lambda']) {
    it(`prints one JSON result line per input and logs to stderr (${mode} mode)`, function () {
      const file = path.join(dir, 'chatty.ts');
      writeFileSync(file, CHATTY);
      const inputs = path.join(dir, 'inputs.jsonl');
      writeFileSync(inputs, [1, 2, 3, 4].map((n) => JSON.stringify({ n })).join('\n'));
      const result = spawnSync(
        process.execPath,
        [path.join(REPO_ROOT, 'bin/photons.js'), 'run', file, '--inputs', inputs, '--concurrency', '2', '--mode', mode],
        { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, PHOTONS_LOG_LEVEL: 'info' } },
      );
      assert.equal(result.status, 1, result.stderr);
      const lines = result.stdout.trimEnd().split('\n');
      const parsed = lines.map((line) => JSON.parse(line) as { index: number; ok: boolean });
      assert.deepEqual(
        parsed.map((l) => [l.index, l.ok]),
        [
          [0, true],
          [1, false],
          [2, true],
          [3, true],
        ],
        result.stdout,
      );
      assert.match(result.stderr, /console says hello/);
      assert.match(result.stderr, /ctx log says hello/);
    });
  }
});
