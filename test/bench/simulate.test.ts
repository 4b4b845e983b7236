// The cluster simulation on a case small enough to work out by hand, in both modes.
import assert from 'node:assert/strict';
import { simulateCluster, type ClusterOptions, type Workload } from '../../bench/simulate/cluster';

/**
 * One function (150 MB an invocation, 100 MB of it shareable, 0.1 of a core), three invocations
 * of 100 ms arriving at 0, 50 and 2,000 ms; cold start exactly 300 ms, keep-alive 1,000 ms, one
 * host of 1,000 MB, horizon 3,000 ms. A runtime holds the shareable 100 MB from the moment it
 * starts and 50 MB more per invocation running in it.
 */
function tinyCase(): Workload {
  const arrivals = [0, 50, 2_000];
  let next = 0;
  return {
    functions: [{ memoryMb: 150, shareableMb: 100, cpu: 0.1, photonsPerRuntime: 64 }],
    nextArrival: () => arrivals[next++] ?? Infinity,
    durationMs: () => 100,
  };
}

function options(mode: 'photon' | 'lambda'): ClusterOptions {
  return {
    mode,
    hosts: 1,
    hostMemoryMb: 1_000,
    horizonMs: 3_000,
    keepAliveMs: 1_000,
    coldStartMs: () => 300,
    maxRuntimesPerFunction: 100,
    eluHigh: 0.9,
    heapHeadroom: 0.8,
  };
}

const MB_MS_PER_GB_S = 1024 * 1000;

describe('bench/simulate: cluster simulation', function () {
  it('lambda: a runtime per concurrent invocation, kept warm for the keep-alive', function () {
    // t=0 A1 arrives: nothing warm, R1 starts (holds 100 MB). t=50 A2 arrives: R1 is still
    // starting and has one slot, so R2 starts (200 MB). R1 ready at 300 runs A1 until 400 (250 MB),
    // R2 ready at 350 runs A2 until 450 (300 MB, then 250 at 400, 200 at 450). Both idle, retired
    // just past 400+1,000 and 450+1,000. t=2,000 A3: R3 starts (100 MB), runs it 2,300–2,400 (150),
    // then idles to the horizon (100).
    // MB·ms: 100×50 + 200×250 + 250×50 + 300×50 + 250×50 + 200×950 + 100×50 + 100×300 + 150×100
    //        + 100×600 = 395,000. Cold starts: 3. Latencies: 400, 400, 400 ms.
    const result = simulateCluster(tinyCase(), options('lambda'));
    assert.equal(result.invocations, 3);
    assert.equal(result.coldStarts, 3);
    assert.ok(Math.abs(result.memoryGbSeconds * MB_MS_PER_GB_S - 395_000) < 1, `memory ${result.memoryGbSeconds * MB_MS_PER_GB_S} MB·ms`);
    assert.equal(result.peakMemoryGb * 1024, 300);
    assert.equal(result.latency.all.meanLatencyMs, 400);
    assert.deepEqual([...result.perInvocation.waited], [1, 1, 1]);
  });

  it('photon: concurrent invocations share one runtime, and fewer runtimes stay warm', function () {
    // t=0 A1: R1 starts (100 MB). t=50 A2: R1 is starting with 64 slots, enough for both: nothing
    // new starts. R1 ready at 300 runs A1 and A2 together (0.2 of a core: no slowdown) until 400
    // (200 MB), idles at 100 MB, retired just past 1,400. t=2,000 A3 as in lambda mode.
    // MB·ms: 100×300 + 200×100 + 100×1,000 + 100×300 + 150×100 + 100×600 = 255,000.
    // Cold starts: 2. Latencies: 400, 350, 400 ms. Against lambda: cold starts −1/3, memory-time
    // −140/395 (35.4%).
    const result = simulateCluster(tinyCase(), options('photon'));
    assert.equal(result.coldStarts, 2);
    assert.ok(Math.abs(result.memoryGbSeconds * MB_MS_PER_GB_S - 255_000) < 1, `memory ${result.memoryGbSeconds * MB_MS_PER_GB_S} MB·ms`);
    assert.equal(result.peakMemoryGb * 1024, 200);
    assert.deepEqual([...result.perInvocation.latencyMs], [400, 350, 400]);
  });

  it('photon: a runtime saturating its core gets company (the policy spreads)', function () {
    // Ten invocations of a whole core each arrive at once: one runtime starts and takes all ten
    // (64 slots) when ready, its event loop is then saturated (elu 1 ≥ 0.9) with more jobs than
    // runtimes, so shouldSpread starts a second one. Ten at 1 core each in one loop run 10× slower.
    const arrivals = Array.from({ length: 10 }, () => 0);
    let next = 0;
    const workload: Workload = {
      functions: [{ memoryMb: 150, shareableMb: 100, cpu: 1, photonsPerRuntime: 64 }],
      nextArrival: () => arrivals[next++] ?? Infinity,
      durationMs: () => 100,
    };
    const result = simulateCluster(workload, options('photon'));
    assert.equal(result.coldStarts, 2);
    assert.ok(result.latency.all.meanLatencyMs > 300 + 100, 'the shared core slows the invocations down');
  });
});
