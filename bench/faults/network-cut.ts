// A host's network cut for 20 s mid-run: three dispatchers, each in a network namespace of its
// own, reach Redis over a virtual network; one host's link goes down, the others take its jobs
// back once their locks expire, and when the link comes back the host rejoins and serves again.
import { startRedisServer } from '../../dispatcher/redis-server';
import { Fleet, sleep, until } from './fleet';
import { count, enqueue, jobIds, readOutcomes, recoveryMs, runsKey, settle, takenBack } from './ledger';
import { VirtualNetwork } from './network';
import { scenarioPrefix, skipped, type Scenario, type ScenarioResult, type ScenarioSize } from './scenario';

export const CUT_MS = 20_000;
/** The workload is spread over this long, so that jobs keep coming after the host rejoins. */
const RUN_MS = 45_000;
const CUT_AFTER_MS = 6_000;

export const networkCutScenario: Scenario = {
  name: 'network-cut',
  mustHold: 'every job completes; the host rejoins',
  async run({ jobs }: ScenarioSize): Promise<ScenarioResult> {
    const unavailable = VirtualNetwork.unavailable();
    if (unavailable) return skipped('network-cut', unavailable);
    const network = VirtualNetwork.create(3);
    try {
      // Protected mode refuses non-loopback clients without a password; this Redis listens only on
      // loopback and on the bridge of the namespaces made above.
      const redis = await startRedisServer(['--bind', '127.0.0.1', network.gateway, '--protected-mode', 'no']);
      const port = new URL(redis.url).port;
      const virtualUrl = `redis://${network.gateway}:${port}`;
      const prefix = scenarioPrefix('netcut');
      const fleet = new Fleet(redis.url, prefix);
      try {
        const dispatchers = network.hosts.map((host) => fleet.spawn('dispatcher', { netns: host.netns, redisUrl: virtualUrl }));
        await Promise.all(dispatchers.map((d) => fleet.serving(d)));
        const ids = jobIds('netcut', jobs);
        const enqueued = enqueue(redis.url, prefix, {
          fn: 'tally',
          ids,
          ratePerSec: jobs / (RUN_MS / 1000),
          // Every host reaches Redis at the gateway, so any job may run anywhere.
          // Jobs of 400 ms, so that at the slow --quick rate each host still holds several at the cut.
          input: (i) => ({ i, ms: 400, url: virtualUrl, key: runsKey(prefix) }),
        });

        await sleep(CUT_AFTER_MS);
        // The host holding the most running jobs, by the heartbeats.
        const running = await Promise.all(
          dispatchers.map(async (d) => (await fleet.heartbeatOf(d))?.functions.find((f) => f.fn === 'tally')?.photonsInFlight ?? 0),
        );
        const held = Math.max(...running);
        const victim = dispatchers[running.indexOf(held)]!;
        const host = network.hosts[running.indexOf(held)]!;
        const cutAt = Date.now();
        network.cut(host);
        await sleep(CUT_MS);
        network.restore(host);
        const restoredAt = Date.now();

        // Rejoined: a heartbeat the host wrote after its link came back.
        const rejoined = await until(
          'the cut host to publish a heartbeat again',
          async () => {
            const stats = await fleet.heartbeatOf(victim);
            return stats && stats.at > restoredAt ? stats : undefined;
          },
          90_000,
          250,
        ).catch(() => undefined);
        const rejoinedAt = Date.now();
        const completedAtRejoin = rejoined?.functions.find((f) => f.fn === 'tally')?.completed ?? 0;

        const acked = await enqueued;
        await settle(fleet.redis, prefix, 'tally', acked.length);
        const outcomes = await readOutcomes(fleet.redis, prefix, 'tally', ids);
        const counts = count(outcomes, ids);
        const back = takenBack(outcomes);
        const afterRejoin = ((await fleet.heartbeatOf(victim))?.functions.find((f) => f.fn === 'tally')?.completed ?? 0) - completedAtRejoin;
        return {
          scenario: 'network-cut',
          ...counts,
          recoveryMs: recoveryMs(outcomes, back, cutAt),
          holds: counts.lost === 0 && rejoined !== undefined && afterRejoin > 0,
          notes: [
            `cut ${host.netns} (${host.address}, ${held} job(s) running) for ${CUT_MS / 1000} s; ${back.length} job(s) taken back by the other hosts`,
            rejoined
              ? `it rejoined ${((rejoinedAt - restoredAt) / 1000).toFixed(1)} s after its link came back and completed ${afterRejoin} job(s) afterwards`
              : 'it did NOT rejoin within 90 s of its link coming back',
          ],
          detail: {
            takenBack: back.length,
            rejoined: rejoined !== undefined,
            rejoinMs: rejoined ? rejoinedAt - restoredAt : null,
            completedAfterRejoin: afterRejoin,
          },
        };
      } finally {
        await fleet.stop();
        await redis.stop();
      }
    } finally {
      network.destroy();
    }
  },
};
