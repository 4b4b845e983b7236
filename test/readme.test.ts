// Every snippet of the README runs as written: the shell sessions, the TypeScript programs, the
// function. The liberties taken so a run disturbs nothing on a shared Redis: the test's own Redis,
// a fresh key prefix or a function name of its own, and a free API port.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { build } from 'esbuild';
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { runLocal } from '../dispatcher/local-run';
import { removeKeys } from '../contract/redis';
import { freePort } from '../dispatcher/redis-server';
import { assertWellFormedXml } from './xml';

const execFileAsync = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');
const REDIS_URL = process.env.PHOTONS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** What examples/functions/hello.ts answers to { name: 'Ada' }. */
const GREETING = 'hello Ada';

interface Snippet {
  lang: string;
  code: string;
}

function snippets(): Snippet[] {
  const text = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** Runs a shell snippet in its own process group, so whatever it leaves running can be stopped. */
async function runShell(code: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  const child = spawn('bash', ['-e', '-c', code], { cwd: REPO_ROOT, env, detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGTERM'); // e.g. `photons start &`, which stops gracefully
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  } catch {
    // the group is already gone
  }
  return { status, output };
}

/** Runs a TypeScript snippet as written: compiled by esbuild, run by node from the repository. */
async function runTypeScript(code: string): Promise<string> {
  const file = path.join(REPO_ROOT, `.readme-snippet-${process.pid}.mjs`);
  try {
    const out = await build({
      stdin: { contents: code, loader: 'ts', resolveDir: REPO_ROOT },
      bundle: true,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      write: false,
    });
    writeFileSync(file, out.outputFiles[0]!.text);
    const result = await execFileAsync(process.execPath, [file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    return result.stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

describe('README snippets', function () {
  this.timeout(120_000);
  const all = snippets();
  const sh = all.filter((s) => s.lang === 'sh');
  const ts = all.filter((s) => s.lang === 'ts');

  it('has only snippets this test runs', function () {
    assert.ok(all.length >= 6, 'fewer snippets than expected');
    for (const s of all) assert.ok(['sh', 'ts'].includes(s.lang), `a ${s.lang} snippet this test does not run`);
  });

  it('runs the quick start and its `npx photons run` result is ok', async function () {
    const quick = sh.find((s) => s.code.includes('npx photons run'))!;
    const { status, output } = await runShell(quick.code.replace(/^npm ci$/m, 'true # already installed'), { ...process.env, PHOTONS_LOG_LEVEL: 'warn' });
    assert.equal(status, 0, output);
    assert.match(output, new RegExp(`"ok":true,"value":\\{"greeting":"${GREETING}","calls":1\\}`));
  });

  it('runs the shell session through Redis: start, invoke, map, HTTP, status', async function () {
    const session = sh.find((s) => s.code.includes('npx photons start &'))!;
    const apiPort = String(await freePort());
    const prefix = `readme-${process.pid}`;
    // A marker before `photons status`, so its own output is checked, not what `map` printed earlier.
    const code = session.code.replaceAll('8321', apiPort).replace(/^npx photons status$/m, 'echo "--- photons status ---"\n$&');
    assert.notEqual(code, session.code.replaceAll('8321', apiPort), 'the session ends with `npx photons status`');
    const { status, output } = await runShell(code, {
      ...process.env,
      PHOTONS_REDIS_URL: REDIS_URL,
      PHOTONS_REDIS_PREFIX: prefix,
      PHOTONS_API_PORT: apiPort,
      PHOTONS_LOG_LEVEL: 'warn',
    });
    try {
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(GREETING));
      const results = readFileSync('/tmp/results.jsonl', 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { index: number; ok: boolean });
      // Lines come in the order items finish (--ordered is not in the session): one per input, each ok.
      assert.equal(results.length, 1000);
      assert.ok(results.every((r) => r.ok));
      assert.deepEqual(
        results.map((r) => r.index).sort((a, b) => a - b),
        Array.from({ length: 1000 }, (_, i) => i),
      );
      assert.match(output, /"ok":true/, 'the HTTP invoke answered');
      const statusOutput = output.slice(output.indexOf('--- photons status ---'));
      assert.match(statusOutput, /\bhello\b/, `status lists the function:\n${statusOutput}`);
    } finally {
      await removeKeys(REDIS_URL, `${prefix}:*`);
    }
  });

  it('runs the function example: every concurrent job sees its module freshly initialised', async function () {
    const code = ts.find((s) => s.code.includes('export default'))!.code;
    const dir = mkdtempSync(path.join(REPO_ROOT, 'functions', '.readme-'));
    try {
      const file = path.join(dir, 'greet.ts');
      writeFileSync(file, code);
      const inputs = Array.from({ length: 20 }, (_, i) => ({ name: `n${i}` }));
      const outcomes = await runLocal(file, inputs, { concurrency: 20, config: loadConfig({ 'log.level': 'silent' }) });
      outcomes.forEach((o, i) => assert.deepEqual(o, { index: i, ok: true, value: { greeting: `hello n${i}`, calls: 1, model: 3 } }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The programs name the default prefix and the `hello` function: they run here against the test's
  // Redis and a copy of examples/functions/hello.ts under a name of its own, whose queue is the only
  // one removed afterwards (a `hello` queue of someone else's on the same Redis is left alone).
  describe('programs against a dispatcher serving examples/functions on the default prefix', function () {
    const fn = `readme-hello-${process.pid}`;
    const reduceFn = `readme-tally-${process.pid}`;
    const redis = new URL(REDIS_URL);
    let dispatcher: Dispatcher;
    let functionsDir: string;
    before(async function () {
      functionsDir = mkdtempSync(path.join(REPO_ROOT, 'examples', '.readme-'));
      copyFileSync(path.join(REPO_ROOT, 'examples', 'functions', 'hello.ts'), path.join(functionsDir, `${fn}.ts`));
      // The README's reduce function, as written, under a name of its own.
      writeFileSync(path.join(functionsDir, `${reduceFn}.ts`), ts.find((s) => s.code.includes('ctx.results()'))!.code);
      const config = loadConfig({ 'redis.url': REDIS_URL, functionsDir, 'log.level': 'warn' });
      dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
      await dispatcher.start();
    });
    after(async function () {
      await dispatcher?.close();
      rmSync(functionsDir, { recursive: true, force: true });
      for (const name of [fn, reduceFn]) {
        const queue = new Queue(name, { connection: { host: redis.hostname, port: Number(redis.port || 6379) } });
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });

    /** The snippet as written, but sent to the test's Redis and to the function's copy. */
    function adapted(code: string): string {
      const out = code
        .replaceAll('redis://127.0.0.1:6379', `redis://${redis.hostname}:${redis.port || 6379}`)
        .replaceAll('port: 6379', `port: ${redis.port || 6379}`)
        .replaceAll("'hello',", `'${fn}',`)
        .replaceAll("'tally',", `'${reduceFn}',`);
      assert.ok(!out.includes("'hello'"), `a use of the function left unadapted:\n${out}`);
      return out;
    }

    it('the Photons client: invoke, then map over 1,000 inputs', async function () {
      const snippet = ts.find((s) => s.code.includes('new PhotonsClient('))!.code;
      assert.match(snippet, /redis:\/\/127\.0\.0\.1:6379/, 'the snippet names the default Redis');
      const output = await runTypeScript(adapted(snippet));
      assert.match(output, new RegExp(GREETING));
      assert.match(output, /state: 'done'/);
      assert.match(output, /total: 1000/);
      assert.match(output, /failed: 0/);
    });

    it('map-reduce: the reducer counts 10,000 greetings; first, any and all take 50 results; the picture is SVG', async function () {
      const output = await runTypeScript(adapted(ts.find((s) => s.code.includes('client.mapReduce('))!.code));
      assert.match(output, /items: 10000/);
      assert.match(output, /greeted: 10000/);
      assert.match(output, /failures: \[\]/);
      assert.match(output, /^50$/m);
      assert.equal(assertWellFormedXml(readFileSync('/tmp/run.svg', 'utf8')), 'svg');
    });

    it("a job's log lines, read with plain BullMQ", async function () {
      const output = await runTypeScript(adapted(ts.find((s) => s.code.includes('getJobLogs'))!.code));
      assert.match(output, /logs: \[\s*'[\d-]+T[\d:.]+Z INFO \[attempt 1\] greeting \{"name":"Ada"\}'\s*\]/);
      assert.match(output, /count: 1/);
    });

    it('schedules: one fires every 500 ms, another waits for its cron time', async function () {
      const output = await runTypeScript(adapted(ts.find((s) => s.code.includes('client.schedule('))!.code));
      assert.match(output, new RegExp(`^greet-often ${fn} [2-9] \\d+ \\d+$`, 'm'));
      assert.match(output, new RegExp(`^greet-nightly ${fn} 0 \\d+ null$`, 'm'));
    });

    it('a plain BullMQ producer', async function () {
      const output = await runTypeScript(adapted(ts.find((s) => s.code.includes("from 'bullmq'"))!.code));
      assert.match(output, new RegExp(`greeting: '${GREETING}'`));
      assert.match(output, /calls: 1/);
    });
  });

  describe('schedules and limits against a dispatcher of their own', function () {
    const prefix = `readme-limits-${process.pid}`;
    let functionsDir: string;
    let dispatcher: Dispatcher | undefined;
    before(function () {
      functionsDir = mkdtempSync(path.join(REPO_ROOT, 'examples', '.readme-'));
      copyFileSync(path.join(REPO_ROOT, 'examples', 'functions', 'hello.ts'), path.join(functionsDir, 'hello.ts'));
      writeFileSync(path.join(functionsDir, 'checker.ts'), ts.find((s) => s.code.includes('rateLimit:'))!.code);
    });
    after(async function () {
      await dispatcher?.close();
      rmSync(functionsDir, { recursive: true, force: true });
      await removeKeys(REDIS_URL, `${prefix}:*`);
    });

    it("applies the function's rateLimit and maxConcurrency to its queue, then runs the schedule commands", async function () {
      this.timeout(300_000); // seven commands, each a process of its own
      dispatcher = new Dispatcher(loadConfig({ 'redis.url': REDIS_URL, 'redis.prefix': prefix, functionsDir, 'log.level': 'warn' }), pino({ level: 'warn' }));
      await dispatcher.start();
      const queue = new Queue('checker', { connection: { url: REDIS_URL }, prefix });
      try {
        for (let tries = 0; !(await queue.getGlobalConcurrency()); tries++) {
          assert.ok(tries < 200, 'the limits never reached Redis');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(await queue.getGlobalConcurrency(), 4);
        assert.deepEqual(await queue.getGlobalRateLimit(), { max: 10, duration: 1000 });
      } finally {
        await queue.close();
      }
      const session = sh.find((s) => s.code.includes('npx photons schedule add'))!;
      const { status, output } = await runShell(session.code, {
        ...process.env,
        PHOTONS_REDIS_URL: REDIS_URL,
        PHOTONS_REDIS_PREFIX: prefix,
        PHOTONS_LOG_LEVEL: 'warn',
      });
      assert.equal(status, 0, output);
      assert.match(output, /^hello +hello +every 300000 ms +active/m);
      assert.match(output, /^hello-cron +hello +cron \*\/10 \* \* \* \* \(UTC\) +active/m);
      assert.match(output, /^hello +hello +every 300000 ms +paused/m);
      assert.match(output, /Removed schedule "hello-cron"/);
    });
  });
});
