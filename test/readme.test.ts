// Every snippet of the README runs as written: the shell commands, the producer script, the function.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import pino from 'pino';
import { loadConfig } from '../config';
import { runLocal } from '../dispatcher/local-run';
import { Dispatcher } from '../dispatcher/dispatcher';

const REPO_ROOT = path.resolve(__dirname, '../..');
const execFileAsync = promisify(execFile);
const REDIS_URL = process.env.PHOTONS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Snippet {
  lang: string;
  code: string;
}

function snippets(): Snippet[] {
  const text = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

describe('README snippets', function () {
  this.timeout(60_000);
  const all = snippets();

  it('has the snippets this test knows how to run', function () {
    assert.ok(all.length >= 4, 'fewer snippets than expected');
    for (const s of all) assert.ok(['sh', 'ts'].includes(s.lang), `a ${s.lang} snippet this test does not run`);
  });

  it('runs every `npx photons run` command and gets ok results', function () {
    const commands = all
      .filter((s) => s.lang === 'sh')
      .flatMap((s) => s.code.split('\n'))
      .filter((line) => line.startsWith('npx photons run '));
    assert.ok(commands.length > 0);
    for (const command of commands) {
      // As written, with the project's own bin instead of npx's lookup.
      const result = spawnSync('bash', ['-c', command.replace(/^npx photons/, `node ${path.join(REPO_ROOT, 'bin/photons.js')}`)], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, PHOTONS_LOG_LEVEL: 'warn' },
      });
      assert.equal(result.status, 0, `${command}: ${result.stderr}`);
      for (const line of result.stdout.trim().split('\n')) assert.equal((JSON.parse(line) as { ok: boolean }).ok, true, line);
    }
  });

  it('runs the function example: every concurrent job sees its module freshly initialised', async function () {
    const code = all.find((s) => s.lang === 'ts' && s.code.includes('export default'))!.code;
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

  it('runs the BullMQ producer example against a dispatcher serving ./functions', async function () {
    const code = all.find((s) => s.lang === 'ts' && s.code.includes("from 'bullmq'"))!.code;
    const redis = new URL(REDIS_URL);
    assert.match(code, /host: '127\.0\.0\.1', port: 6379/, 'the snippet names the default Redis');
    // The snippet uses BullMQ's default prefix, so the dispatcher does too; its queue is removed after.
    const config = loadConfig({ 'redis.url': REDIS_URL, functionsDir: path.join(REPO_ROOT, 'functions'), 'log.level': 'warn' });
    const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
    await dispatcher.start();
    const script = path.join(REPO_ROOT, `.readme-producer-${process.pid}.mjs`);
    try {
      writeFileSync(script, code.replace("{ host: '127.0.0.1', port: 6379 }", JSON.stringify({ host: redis.hostname, port: Number(redis.port || 6379) })));
      // Asynchronously: the dispatcher serving the job runs in this very process.
      const result = await execFileAsync(process.execPath, [script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
      assert.match(result.stdout, /sha256: '16cef001bdae75ba151c6d059f5fd5c685c03f0bdd025bb845174714d9e26fd1'/);
      assert.match(result.stdout, /sizeBytes: 2097152/);
    } finally {
      rmSync(script, { force: true });
      await dispatcher.close();
      const queue = new Queue('hash', { connection: { host: redis.hostname, port: Number(redis.port || 6379) } });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
