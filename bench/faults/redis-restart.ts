// Redis restarted mid-run (AOF on, appendfsync everysec; stopped with SIGTERM, which flushes the
// AOF, then started again on the same port and folder): every enqueue Redis acknowledged completes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pingRedis } from '../../contract/redis';
import { startRedisServer } from '../../dispatcher/redis-server';
import { Fleet, sleep, until } from './fleet';
import { count, type JobOutcome, readOutcomes, settle, tallyRun } from './ledger';
import { scenarioPrefix, type Scenario, type ScenarioResult, type ScenarioSize } from './scenario';

const DOWN_MS = 3_000;

export const redisRestartScenario: Scenario = {
  name: 'redis-restart',
  mustHold: 'every acknowledged enqueue completes',
  async run({ jobs, quick }: ScenarioSize): Promise<ScenarioResult> {
    const dir = await mkdtemp(path.join(tmpdir(), 'photons-faults-aof-'));
    const persistence = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir];
    let redis: { url: string; stop(): Promise<void> } = await startRedisServer(persistence);
    const port = new URL(redis.url).port;
    const prefix = scenarioPrefix('redis');
    const fleet = new Fleet(redis.url, prefix);
    try {
      const { ids, enqueued } = await tallyRun(fleet, redis.url, prefix, 'redis', 2, { jobs, quick });
      // The jobs running at the stop: those a restart may run twice.
      const running = await fleet.redis.lrange(`${prefix}:tally:active`, 0, -1);
      const stoppedAt = Date.now();
      await redis.stop();
      await sleep(DOWN_MS);
      redis = await restart(port, persistence);
      const backAt = Date.now();

      const acked = await enqueued;
      await settle(fleet.redis, prefix, 'tally', acked.length);
      const outcomes = await readOutcomes(fleet.redis, prefix, 'tally', ids);
      const counts = count(outcomes, acked);
      return {
        scenario: 'redis-restart',
        ...counts,
        // Jobs running at the stop may well finish before Redis is gone: the outage is what to time.
        recoveryMs: firstFinishAfter(outcomes, backAt, stoppedAt),
        holds: counts.lost === 0,
        notes: [`Redis down ${backAt - stoppedAt} ms with ${running.length} job(s) running; ${jobs - acked.length} enqueue(s) never acknowledged`],
      };
    } finally {
      await fleet.stop();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** From the stop to the first job finished after the restart: jobs flow again. */
function firstFinishAfter(outcomes: Map<string, JobOutcome>, backAt: number, since: number): number | undefined {
  let first: number | undefined;
  for (const { finishedOn } of outcomes.values())
    if (finishedOn !== undefined && finishedOn >= backAt && (first === undefined || finishedOn < first)) first = finishedOn;
  return first === undefined ? undefined : first - since;
}

/** The same redis-server again, on the port and AOF folder of the one stopped. */
async function restart(port: string, persistence: string[]) {
  const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  await until(
    'the restarted Redis to answer',
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on restart`);
      return pingRedis(url, 300);
    },
    20_000,
    100,
  );
  return {
    url,
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
