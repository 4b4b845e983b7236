// A dispatcher (of three) SIGKILLed mid-run: BullMQ's stalled-job recovery hands its jobs to the
// two others once their locks expire; every job must complete.
import { startRedisServer } from '../../dispatcher/redis-server';
import { Fleet, until } from './fleet';
import { count, enqueue, jobIds, readOutcomes, recoveryMs, runsKey, settle, takenBack } from './ledger';
import { scenarioPrefix, type Scenario, type ScenarioResult, type ScenarioSize } from './scenario';

export const sigkillScenario: Scenario = {
  name: 'sigkill',
  mustHold: 'every job completes',
  async run({ jobs, quick }: ScenarioSize): Promise<ScenarioResult> {
    const redis = await startRedisServer();
    const prefix = scenarioPrefix('sigkill');
    const fleet = new Fleet(redis.url, prefix);
    try {
      const dispatchers = [0, 1, 2].map(() => fleet.spawn('dispatcher'));
      await Promise.all(dispatchers.map((d) => fleet.serving(d)));
      const ids = jobIds('sigkill', jobs);
      const enqueued = enqueue(redis.url, prefix, {
        fn: 'tally',
        ids,
        ratePerSec: quick ? 400 : 500,
        input: (i) => ({ i, ms: 50, url: redis.url, key: runsKey(prefix) }),
      });

      // A third of the way in, kill one that holds running jobs (its heartbeat says so).
      await until('a third of the jobs to complete', async () => (await fleet.redis.zcard(`${prefix}:tally:completed`)) >= jobs / 3, 120_000, 100);
      const { victim, held } = await until('a dispatcher with jobs in flight', async () => {
        for (const d of dispatchers) {
          const held = (await fleet.heartbeatOf(d))?.functions.find((f) => f.fn === 'tally')?.photonsInFlight ?? 0;
          if (held > 0) return { victim: d, held };
        }
        return undefined;
      }, 30_000, 50);
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;

      const acked = await enqueued;
      await settle(fleet.redis, prefix, 'tally', acked.length);
      const outcomes = await readOutcomes(fleet.redis, prefix, 'tally', ids);
      const counts = count(outcomes, ids);
      const back = takenBack(outcomes);
      return {
        scenario: 'sigkill',
        ...counts,
        recoveryMs: recoveryMs(outcomes, back, killedAt),
        holds: counts.lost === 0,
        notes: [`killed pid ${victim.pid} holding ${held} running job(s); ${back.length} job(s) taken back by the other two`],
      };
    } finally {
      await fleet.stop();
      await redis.stop();
    }
  },
};
