// A run survives the death of the process that started it: a child process starts a map and is
// SIGKILLed; this process resumes the run by id and gets every result.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as path from 'node:path';
import type { ItemResult } from '../../producer/types';
import { REDIS_URL, REPO_ROOT, range, startStack, type Stack } from './helpers';

const N = 3_000;
const inputOf = (n: number): { ms: number; n: number } => ({ ms: 2, n });

/** Starts a map in a child process; resolves with the run id once `afterResults` results were read, then kills the child. */
async function startThenKill(prefix: string, options: { maxInFlight: number; afterResults: number }): Promise<string> {
  const script = `
    const { PhotonsClient } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'index.js'))});
    const client = new PhotonsClient({ redisUrl: process.env.REDIS_URL, prefix: process.env.PREFIX });
    (async () => {
      const inputs = Array.from({ length: ${N} }, (_, n) => ({ ms: 2, n }));
      const run = await client.map('slow', inputs, { chunkSize: 10, maxInFlight: ${options.maxInFlight} });
      console.log(JSON.stringify({ runId: run.id }));
      let seen = 0;
      let told = false;
      for await (const _ of run) {
        if (++seen >= ${options.afterResults} && !told && (${options.maxInFlight} < ${N} || run.progress().state !== 'enqueuing')) {
          told = true;
          console.log(JSON.stringify({ seen }));
        }
      }
    })();`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, REDIS_URL, PREFIX: prefix }, stdio: ['ignore', 'pipe', 'inherit'] });
  let runId: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { runId?: string; seen?: number };
    runId ??= message.runId;
    if (message.seen) break;
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(runId, 'the child printed no run id');
  return runId;
}

function assertEveryItem(results: ItemResult[]): void {
  assert.equal(results.length, N);
  results.forEach((r, i) => {
    assert.equal(r.index, i);
    assert.deepEqual(r.ok ? r.value : r.error, { n: i });
  });
}

describe('producer map: resume after the client process is killed', function () {
  this.timeout(120_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('killed while enqueuing: resumeRun with the inputs again enqueues the rest and yields every result', async () => {
    const runId = await startThenKill(stack.prefix, { maxInFlight: 500, afterResults: 300 });
    const before = await stack.client.runProgress(runId);
    assert.equal(before.state, 'enqueuing');
    assert.ok(before.enqueued < N, `expected the child to die mid-enqueue, it had enqueued ${before.enqueued}`);
    const client = stack.newClient();
    const run = await client.resumeRun(runId, { inputs: range(N).map(inputOf), ordered: true });
    const results: ItemResult[] = [];
    for await (const r of run) results.push(r);
    assertEveryItem(results);
    assert.equal(run.progress().state, 'done');
  });

  it('killed after enqueuing: resumeRun by id alone yields every result', async () => {
    const runId = await startThenKill(stack.prefix, { maxInFlight: N, afterResults: 100 });
    const run = await stack.newClient().resumeRun(runId, { ordered: true });
    const results: ItemResult[] = [];
    for await (const r of run) results.push(r);
    assertEveryItem(results);
  });
});
