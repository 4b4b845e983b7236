// README claims about the CLI that no other test covered: `photons map --resume <run-id>` takes a
// run up again after its client died, `photons jobs <id> --cancel` cancels a running job, and
// `--config <file.json>` is read (a value from the file wins over the default; a bad file is a
// clear error).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ErrorCodes } from '../../errors';
import { until } from '../dispatcher/helpers';
import { PHOTONS_BIN, REDIS_URL, range, startStack, type Stack } from '../producer/helpers';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without any PHOTONS_* setting, so only what a test gives counts. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PHOTONS_')));
  return { ...env, PHOTONS_LOG_LEVEL: 'warn', ...extra };
}

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; ran: Promise<Ran>; stderr: () => string } {
  const child = spawn(process.execPath, [PHOTONS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ran = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, ran, stderr: () => stderr };
}

describe('photons CLI: README claims', function () {
  this.timeout(90_000);
  let stack: Stack;
  let dir: string;
  before(async () => {
    stack = await startStack();
    dir = await mkdtemp(path.join(tmpdir(), 'photons-cli-claims-'));
  });
  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => bareEnv({ PHOTONS_REDIS_URL: REDIS_URL, PHOTONS_REDIS_PREFIX: stack.prefix });

  it('map --resume <run-id> takes up a run whose client was killed, and writes every result', async () => {
    const N = 30;
    const inputs = path.join(dir, 'inputs.jsonl');
    await writeFile(
      inputs,
      range(N)
        .map((n) => `${JSON.stringify({ n, ms: 300 })}\n`)
        .join(''),
    );
    const first = start(['map', 'echo', inputs, '-o', path.join(dir, 'first.jsonl'), '--chunk-size', '1'], env());
    const runId = await until('the run id on stderr', () => /go on with --resume (\S+)\)/.exec(first.stderr())?.[1], 30_000);
    first.child.kill('SIGKILL');
    await first.ran;

    const out = path.join(dir, 'resumed.jsonl');
    const resumed = await start(['map', 'echo', inputs, '-o', out, '--resume', runId], env()).ran;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`run ${runId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} of "echo"`));
    const results = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; ok: boolean; value: unknown });
    assert.deepEqual(
      results.sort((a, b) => a.index - b.index),
      range(N).map((n) => ({ index: n, ok: true, value: { n, ms: 300 } })),
    );
  });

  it('jobs <id> --cancel cancels a running job: it is signalled and fails as cancelled', async () => {
    const jobId = await stack.client.enqueue('slow', { ms: 60_000 });
    await until('the job to run', async () => (await stack.client.result(jobId)).state === 'active', 30_000);
    const cancelled = await start(['jobs', jobId, '--cancel'], env()).ran;
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as { outcome: string }).outcome, 'signalled');
    const status = await until(
      'the job to end',
      async () => {
        const s = await stack.client.result(jobId);
        return s.state === 'failed' ? s : undefined;
      },
      30_000,
    );
    assert.equal(status.error?.code, ErrorCodes.CANCELLED);
    const shown = await start(['jobs', jobId], env()).ran;
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /"state": "failed"/);
  });

  it("--config <file.json>: the file's values win over the defaults", async () => {
    // No PHOTONS_* variables: without the file, invoke would look on the default prefix and find no function.
    const file = path.join(dir, 'photons.json');
    await writeFile(file, JSON.stringify({ redis: { url: REDIS_URL, prefix: stack.prefix } }));
    const withFile = await start(['invoke', 'echo', '{"n":5}', '--config', file], bareEnv()).ran;
    assert.deepEqual(withFile, { code: 0, stdout: '{"n":5}\n', stderr: '' });
    const checked = await start(['config', '--check', '--config', file], bareEnv()).ran;
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, new RegExp(`configuration is valid \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('--config <file.json>: an unknown key or a file that is not JSON stops with PHOTONS_ERR_CONFIG naming the file', async () => {
    const unknown = path.join(dir, 'unknown-key.json');
    await writeFile(unknown, JSON.stringify({ redis: { prefx: 'typo' } }));
    const notJson = path.join(dir, 'not-json.json');
    await writeFile(notJson, '{ redis: ');
    for (const [file, what] of [
      [unknown, /redis\.prefx/],
      [notJson, /JSON/],
    ] as const) {
      const ran = await start(['invoke', 'echo', '{"n":1}', '--config', file], bareEnv()).ran;
      assert.equal(ran.code, 1, ran.stderr);
      assert.equal(ran.stdout, '');
      assert.ok(ran.stderr.includes(`config file ${file}`), ran.stderr);
      assert.match(ran.stderr, what);
      assert.match(ran.stderr, new RegExp(`\\[${ErrorCodes.CONFIG}\\]`));
    }
  });
});
