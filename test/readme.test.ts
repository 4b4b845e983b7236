// Every snippet of the README runs as written: the shell sessions, the TypeScript programs, the
// function. The one liberty taken: a fresh key prefix and a free API port, so a run disturbs nothing.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { build } from 'esbuild';
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { runLocal } from '../dispatcher/local-run';
import { removeKeys } from '../dispatcher/redis';
import { freePort } from '../dispatcher/redis-server';

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
    const out = await build({ stdin: { contents: code, loader: 'ts', resolveDir: REPO_ROOT }, bundle: true, format: 'esm', platform: 'node', packages: 'external', write: false });
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
    const { status, output } = await runShell(session.code.replaceAll('8321', apiPort), {
      ...process.env,
      PHOTONS_REDIS_URL: REDIS_URL,
      PHOTONS_REDIS_PREFIX: prefix,
      PHOTONS_API_PORT: apiPort,
      PHOTONS_LOG_LEVEL: 'warn',
    });
    try {
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(GREETING));
      const results = readFileSync('/tmp/results.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; ok: boolean });
      assert.equal(results.length, 1000);
      assert.ok(results.every((r, i) => r.ok && r.index === i));
      assert.match(output, /"ok":true/, 'the HTTP invoke answered');
      assert.match(output, /hello/, 'status lists the function');
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

  describe('programs against a dispatcher serving examples/functions on the default Redis and prefix', function () {
    let dispatcher: Dispatcher;
    before(async function () {
      const config = loadConfig({ 'redis.url': REDIS_URL, functionsDir: path.join(REPO_ROOT, 'examples', 'functions'), 'log.level': 'warn' });
      dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
      await dispatcher.start();
    });
    after(async function () {
      await dispatcher.close();
      const redis = new URL(REDIS_URL);
      const queue = new Queue('hello', { connection: { host: redis.hostname, port: Number(redis.port || 6379) } });
      await queue.obliterate({ force: true });
      await queue.close();
    });

    it('the Photons client: invoke, then map over 1,000 inputs', async function () {
      assert.match(REDIS_URL, /127\.0\.0\.1:6379/, 'the snippet names the default Redis');
      const output = await runTypeScript(ts.find((s) => s.code.includes("from 'photons'"))!.code);
      assert.match(output, new RegExp(GREETING));
      assert.match(output, /state: 'done'/);
      assert.match(output, /total: 1000/);
      assert.match(output, /failed: 0/);
    });

    it('a plain BullMQ producer', async function () {
      const output = await runTypeScript(ts.find((s) => s.code.includes("from 'bullmq'"))!.code);
      assert.match(output, new RegExp(`greeting: '${GREETING}'`));
      assert.match(output, /calls: 1/);
    });
  });
});
