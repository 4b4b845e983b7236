// A dispatcher (of three) SIGKILLed mid-run: BullMQ's stalled-job recovery hands its jobs to the
// two others once their locks expire; every job must complete.
import { startRedisServer } from '../../dispatcher/redis-server';
import { Fleet, until } from './fleet';
import { count, readOutcomes, recoveryMs, settle, takenBack, tallyRun } from './ledger';
import { scenarioPrefix, type Scenario, type ScenarioResult, type ScenarioSize } from './scenario';

export const sigkillScenario: Scenario = {
  name: 'sigkill',
  mustHold: 'every job completes',
  async run({ jobs, quick }: ScenarioSize): Promise<ScenarioResult> {
    const redis = await startRedisServer();
    const prefix = scenarioPrefix('sigkill');
    const fleet = new Fleet(redis.url, prefix);
    try {
      // A third of the way in, kill one that holds running jobs (its heartbeat says so).
      const { dispatchers, ids, enqueued } = await tallyRun(fleet, redis.url, prefix, 'sigkill', 3, { jobs, quick });
      const { victim, held } = await until(
        'a dispatcher with jobs in flight',
        async () => {
          for (const d of dispatchers) {
            const held = (await fleet.heartbeatOf(d))?.functions.find((f) => f.fn === 'tally')?.photonsInFlight ?? 0;
            if (held > 0) return { victim: d, held };
          }
          return undefined;
        },
        30_000,
        50,
      );
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
