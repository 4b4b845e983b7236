// `photons bench cluster --quick`: the suite runs end to end on a local cluster and reports both
// rates and where each function's queue lives. Installs redis-server when missing (root).
import { strict as assert } from 'node:assert';
import { clusterBench } from '../../bench/cluster';
import { clusterUnavailable } from '../../bench/redis-cluster';
import { ensurePrograms } from '../tools';

describe('bench cluster --quick', function () {
  this.timeout(120_000);

  it('reports jobs/s through one Redis and through 3 masters, each function on its own master', async function () {
    const missing = ensurePrograms('redis-server', 'redis-cli') ?? clusterUnavailable();
    if (missing) {
      console.log(`      (skipped: ${missing})`);
      this.skip();
    }
    const { result, lines } = await clusterBench({ quick: true, json: true });
    const report = result as { jobs: number; oneRedisJobsPerSec: number; clusterJobsPerSec: number; ratio: number; placement: Record<string, string> };
    assert.equal(report.jobs, 6_000);
    assert.ok(report.oneRedisJobsPerSec > 0 && report.clusterJobsPerSec > 0, JSON.stringify(report));
    assert.ok(Math.abs(report.ratio - report.clusterJobsPerSec / report.oneRedisJobsPerSec) < 0.01, JSON.stringify(report));
    assert.deepEqual(Object.keys(report.placement), ['noop-a', 'noop-b', 'noop-c']);
    assert.equal(new Set(Object.values(report.placement)).size, 3, 'three masters');
    assert.ok(lines.some((line) => line.startsWith('ratio cluster/one: ')));
  });
});
