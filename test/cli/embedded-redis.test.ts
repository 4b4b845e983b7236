// `photons start` on a machine where nothing answers at PHOTONS_REDIS_URL: it starts redis-server
// at that very address, so the CLI and any BullMQ producer with the same URL reach it, and a job
// queued before a restart runs after it.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Job, Queue } from 'bullmq';
import { pingRedis } from '../../contract/redis';
import { freePort } from '../../dispatcher/redis-server';
import { ErrorCodes } from '../../errors';
import { FIXTURE_FUNCTIONS, PHOTONS_BIN } from '../producer/helpers';
import { spawnStart, topLevelKeys, type StartProcess } from './start-process';

const execFileAsync = promisify(execFile);
const READY = /HTTP API at http/;

describe('photons start with no Redis at a loopback URL', function () {
  this.timeout(120_000);
  let dataDir: string;
  let port: number;
  let url: string;
  const running: StartProcess[] = [];

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'photons-data-'));
    port = await freePort();
    url = `redis://:test-pass@127.0.0.1:${port}`;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    PHOTONS_REDIS_URL: url,
    PHOTONS_DATA_DIR: dataDir,
    PHOTONS_FUNCTIONS_DIR: FIXTURE_FUNCTIONS,
    PHOTONS_API_PORT: '0',
    PHOTONS_LOG_FORMAT: 'json',
    PHOTONS_MAX_RUNTIMES: '1',
    PHOTONS_SPARE_THREADS: '0',
    PHOTONS_SHUTDOWN_GRACE_MS: '2000',
    ...extra,
  });

  async function start(): Promise<StartProcess> {
    const started = spawnStart(env());
    running.push(started);
    await started.waitFor(READY);
    return started;
  }

  async function stop(started: StartProcess): Promise<number | null> {
    running.splice(running.indexOf(started), 1);
    return started.stop();
  }

  it('starts redis-server at that address: the CLI and BullMQ reach it, and a delayed job outlives a restart', async () => {
    const first = await start();
    const line = first
      .stdout()
      .split('\n')
      .find((l) => l.includes('started redis-server there'));
    assert.ok(line, first.stdout());
    const logged = JSON.parse(line) as { msg: string; dataDir: string };
    assert.equal(new Set(topLevelKeys(line)).size, topLevelKeys(line).length, `a key twice in ${line}`);
    assert.equal(logged.dataDir, path.join(dataDir, `redis-${port}`));
    assert.doesNotMatch(line, /test-pass/, 'the password stays out of the logs');

    const invoked = await execFileAsync(process.execPath, [PHOTONS_BIN, 'invoke', 'echo', '{"n":1}'], { env: env() });
    assert.equal(invoked.stdout, '{"n":1}\n');
    assert.equal(await pingRedis(`redis://127.0.0.1:${port}`, 1_000), false, 'it asks for the password of the URL');

    const connection = { host: '127.0.0.1', port, password: 'test-pass' };
    const queue = new Queue('echo', { connection });
    try {
      const job = await queue.add('job', { n: 2 }, { delay: 4_000 });
      assert.equal(await job.getState(), 'delayed');
      assert.equal(await stop(first), 0);
      assert.equal(await pingRedis(url, 500), false, 'the Redis stops with the photons start that started it');
      assert.ok(existsSync(path.join(dataDir, `redis-${port}`, 'appendonlydir')), 'its append-only file stays');

      const restartedAt = Date.now();
      await start();
      for (;;) {
        const again = await Job.fromId(queue, job.id!);
        assert.ok(again, 'the job survived the restart');
        if (again.finishedOn) {
          assert.deepEqual(again.returnvalue, { n: 2 });
          assert.ok(again.processedOn! >= restartedAt, 'it ran after the restart, not before the stop');
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await queue.close();
    }
  });

  it('a second photons start uses the Redis of the first, which lives as long as the first', async () => {
    const first = await start();
    const second = await start();
    assert.match(second.stdout(), /using the Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:/);
    assert.doesNotMatch(second.stdout(), /started redis-server/);
    assert.equal(await stop(second), 0);
    assert.equal(await pingRedis(url, 1_000), true, 'stopping the second leaves the Redis of the first');
    const invoked = await execFileAsync(process.execPath, [PHOTONS_BIN, 'invoke', 'echo', '{"n":3}'], { env: env() });
    assert.equal(invoked.stdout, '{"n":3}\n');
    assert.equal(await stop(first), 0);
    assert.equal(await pingRedis(url, 500), false);
  });

  it('a SIGKILLed photons start leaves no redis-server holding the port', async () => {
    const first = await start();
    first.child.kill('SIGKILL');
    running.splice(running.indexOf(first), 1);
    while (await pingRedis(url, 500)) await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('refuses to start one off this machine, and says how to get redis-server when it is missing', async () => {
    const remote = await execFileAsync(process.execPath, [PHOTONS_BIN, 'start'], { env: env({ PHOTONS_REDIS_URL: 'redis://192.0.2.1:6379' }) }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal((remote as { code: number }).code, 1);
    assert.match((remote as { stderr: string }).stderr, new RegExp(`not a plain redis:// URL on this machine.*\\[${ErrorCodes.REDIS_UNAVAILABLE}\\]`));

    const noServer = await execFileAsync(process.execPath, [PHOTONS_BIN, 'start'], { env: env({ PATH: '/nonexistent' }) }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal((noServer as { code: number }).code, 1);
    assert.match(
      (noServer as { stderr: string }).stderr,
      /redis-server is not on the PATH.*apt-get install redis-server.*brew install redis.*docker run -p 6379:6379 redis:7/,
    );
  });
});
