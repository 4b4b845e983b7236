// The producer commands as a user runs them: `node bin/photons.js invoke|map|jobs|functions|api`
// against a real dispatcher, checking exit codes, output files and progress on a non-TTY stderr.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCodes } from '../../errors';
import { PHOTONS_BIN, REDIS_URL, runPhotons, startStack, type Ran, type Stack } from '../producer/helpers';
import { assertWellFormedXml } from '../xml';

describe('photons producer commands', function () {
  this.timeout(60_000);
  let stack: Stack;
  let dir: string;
  before(async () => {
    stack = await startStack();
    dir = await mkdtemp(path.join(tmpdir(), 'photons-cli-'));
  });
  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PHOTONS_REDIS_URL: REDIS_URL, PHOTONS_REDIS_PREFIX: stack.prefix, PHOTONS_LOG_LEVEL: 'warn' });

  function photons(...args: string[]): Promise<Ran> {
    return runPhotons(args, env());
  }

  it('invoke prints the result; a failed job exits 1 with the function error', async () => {
    assert.deepEqual(await photons('invoke', 'echo', '{"n":1}'), { code: 0, stdout: '{"n":1}\n', stderr: '' });
    const failed = await photons('invoke', 'echo', '{"n":2,"fail":true}');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed: PHOTONS_ERR_HANDLER: item 2 asked to fail/);
  });

  it('invoke: usage errors exit 2, an unknown function exits 1', async () => {
    const notJson = await photons('invoke', 'echo', '{oops');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /The input is not JSON/);
    const unknown = await photons('invoke', 'nope', '1');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`No function "nope" is deployed.*\\[${ErrorCodes.UNKNOWN_FUNCTION}\\]`));
  });

  it('map writes one result line per input, in order, prints progress and a summary, exits 1 on failures', async () => {
    const inputs = path.join(dir, 'inputs.jsonl');
    const output = path.join(dir, 'results.jsonl');
    const lines = Array.from({ length: 2_000 }, (_, n) => JSON.stringify(n % 100 === 5 ? { n, fail: true } : { n }));
    await writeFile(inputs, `${lines.join('\n')}\n`);
    const ran = await photons('map', 'echo', inputs, '-o', output, '--chunk-size', '50', '--ordered');
    assert.equal(ran.code, 1, ran.stderr);
    assert.equal(ran.stdout, '');
    const results = (await readFile(output, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; ok: boolean });
    assert.deepEqual(
      results.map((r) => r.index),
      lines.map((_, i) => i),
    );
    assert.equal(results.filter((r) => !r.ok).length, 20);
    assert.match(ran.stderr, /photons map: run [\w-]+ of "echo"/);
    assert.match(ran.stderr, /^photons map: \d+\/\d+\+? done, \d+ failed, \d+ items\/s$/m, 'a plain progress line');
    assert.match(ran.stderr, /photons map: run [\w-]+: 1980 succeeded, 20 failed, 2000 done in [\d.]+ s \(\d+ items\/s\)/);
    assert.doesNotMatch(ran.stderr, /\r|\x1b\[/, 'no terminal control characters when stderr is not a TTY');
  });

  it('map to stdout exits 0 when every item succeeds; a line that is not JSON names the line', async () => {
    const inputs = path.join(dir, 'ok.jsonl');
    await writeFile(inputs, '{"n":1}\n\n{"n":2}\n');
    const ok = await photons('map', 'double', inputs, '--ordered');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      ok.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
      [
        { index: 0, ok: true, value: { n: 2 } },
        { index: 1, ok: true, value: { n: 4 } },
      ],
    );
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, '{"n":1}\nnot json\n');
    const failed = await photons('map', 'double', bad);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /bad\.jsonl:2 is not JSON/);
    const missing = await photons('map', 'double', path.join(dir, 'none.jsonl'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /does not exist/);
    const badFlag = await photons('map', 'double', inputs, '--chunk-size', '0');
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /--chunk-size must be a positive integer/);
  });

  it("map --reduce prints the reducer's result, --plot writes the run's picture; --resume answers the same reduce", async () => {
    const inputs = path.join(dir, 'sum.jsonl');
    await writeFile(inputs, Array.from({ length: 300 }, (_, n) => JSON.stringify(n === 5 ? { n, fail: true } : { n })).join('\n'));
    const plot = path.join(dir, 'run.svg');
    const ran = await photons('map', 'echo', inputs, '--reduce', 'sum', '--chunk-size', '25', '--plot', plot);
    assert.equal(ran.code, 0, ran.stderr);
    const result = JSON.parse(ran.stdout) as { sum: number; failedAt: number[]; input: { runId: string } };
    assert.equal(result.sum, (300 * 299) / 2 - 5);
    assert.deepEqual(result.failedAt, [5]);
    assert.match(ran.stderr, /reduced by "sum"/);
    const svg = await readFile(plot, 'utf8');
    assert.equal(assertWellFormedXml(svg), 'svg');
    assert.equal(svg.match(/<rect class="run[ "]/g)?.length, 12, 'a bar per chunk of 25');
    const again = await photons('map', 'echo', inputs, '--reduce', 'sum', '--resume', result.input.runId);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), result);
    const wrong = await photons('map', 'echo', inputs, '--reduce', 'double', '--resume', result.input.runId);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /reduces with "sum", not "echo" and "double"/);
    const badPlot = await photons('map', 'echo', inputs, '--plot', 'run.png');
    assert.equal(badPlot.code, 2);
    assert.match(badPlot.stderr, /--plot writes an SVG file/);
  });

  it('jobs shows a job by id; functions lists the functions', async () => {
    const jobId = await stack.client.enqueue('double', { n: 5 });
    await stack.client.invoke('double', { n: 0 });
    let shown = await photons('jobs', jobId);
    for (let i = 0; i < 50 && !shown.stdout.includes('completed'); i++) shown = await photons('jobs', jobId);
    assert.equal(shown.code, 0, shown.stderr);
    const status = JSON.parse(shown.stdout) as { fn: string; state: string; value: unknown };
    assert.deepEqual([status.fn, status.state, status.value], ['double', 'completed', { n: 10 }]);
    const missing = await photons('jobs', 'no-such-job');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /PHOTONS_ERR_JOB_NOT_FOUND/);
    const listed = await photons('functions');
    assert.equal(listed.code, 0);
    assert.deepEqual(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
      ['double', 'echo', 'slow', 'sum'],
    );
  });

  it('--help on every producer command', async () => {
    for (const command of ['invoke', 'map', 'jobs', 'functions', 'api']) {
      const ran = await photons(command, '--help');
      assert.equal(ran.code, 0);
      assert.match(ran.stdout, new RegExp(`Usage: photons ${command}`));
    }
  });

  it('api serves until SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, [PHOTONS_BIN, 'api', '--port', '0'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    let url: string | undefined;
    for await (const line of createInterface({ input: child.stderr })) {
      url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) break;
    }
    assert.ok(url, 'no address printed');
    const answer = (await (await fetch(`${url}/functions`)).json()) as { functions: Array<{ name: string }> };
    assert.deepEqual(
      answer.functions.map((f) => f.name),
      ['double', 'echo', 'slow', 'sum'],
    );
    child.kill('SIGTERM');
    const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (c) => resolve([c])));
    assert.equal(code, 0);
  });
});
