// A job that takes its runtime down (an event loop blocked for ever, an exhausted heap), enqueued
// among ordinary jobs of the same function: the runtime is replaced, the ordinary jobs complete,
// and the culprit, present at two runtime deaths, fails as PHOTONS_ERR_POISON.
import { Queue } from 'bullmq';
import { producerConnection } from '../../contract/redis';
import { startRedisServer } from '../../dispatcher/redis-server';
import { Fleet, until } from './fleet';
import { count, enqueue, jobIds, readOutcomes, runsKey, settle } from './ledger';
import { scenarioPrefix, type Scenario, type ScenarioResult, type ScenarioSize } from './scenario';

function poisonScenario(name: string, fn: 'spin' | 'hoard', culprit: Record<string, unknown>, what: string): Scenario {
  return {
    name,
    mustHold: 'normal jobs complete; the culprit fails as poison',
    async run({ jobs, quick }: ScenarioSize): Promise<ScenarioResult> {
      const redis = await startRedisServer();
      const prefix = scenarioPrefix(name);
      const fleet = new Fleet(redis.url, prefix);
      const queue = new Queue(fn, { connection: producerConnection(redis.url), prefix });
      try {
        const dispatchers = [0, 1].map(() => fleet.spawn('dispatcher'));
        await Promise.all(dispatchers.map((d) => fleet.serving(d)));
        const ids = jobIds(name, jobs);
        const input = (i: number) => ({ i, ms: 50, url: redis.url, key: runsKey(prefix) });
        const enqueued = enqueue(redis.url, prefix, { fn, ids, ratePerSec: quick ? 400 : 500, input });

        await until('a third of the jobs to complete', async () => (await fleet.redis.zcard(`${prefix}:${fn}:completed`)) >= jobs / 3, 120_000, 100);
        const culpritId = `${name}-culprit`;
        const addedAt = Date.now();
        await queue.add(fn, { ...input(-1), ...culprit }, { jobId: culpritId });

        const acked = await enqueued;
        await settle(fleet.redis, prefix, fn, acked.length + 1);
        const outcomes = await readOutcomes(fleet.redis, prefix, fn, [...ids, culpritId]);
        const counts = count(outcomes, ids);
        const verdict = outcomes.get(culpritId)!;
        const poisoned = verdict.failedReason?.startsWith('PHOTONS_ERR_POISON') ?? false;
        const deaths = /present at (\d+) runtime deaths/.exec(verdict.failedReason ?? '')?.[1] ?? '?';
        return {
          scenario: name,
          ...counts,
          recoveryMs: verdict.finishedOn !== undefined ? verdict.finishedOn - addedAt : undefined,
          holds: counts.lost === 0 && poisoned,
          notes: [
            `${what}: ${poisoned ? 'failed as poison' : `NOT failed as poison (${verdict.failedReason ?? (verdict.completed ? 'completed' : 'unfinished')})`} at ${deaths} runtime deaths`,
          ],
        };
      } finally {
        await queue.close().catch(() => undefined);
        await fleet.stop();
        await redis.stop();
      }
    },
  };
}

export const blockedLoopScenario = poisonScenario('blocked-loop', 'spin', { block: true }, 'the job blocking its event loop');
export const heapExhaustionScenario = poisonScenario('heap-exhaustion', 'hoard', { grow: true }, 'the job exhausting its heap');
