// The suites of `photons bench`. They live with the benchmarks, not in the CLI: the published
// package ships no benchmark, and the CLI loads this module only from a checkout.
import { clusterBench } from './cluster';
import { dispatchBench } from './dispatch';
import { faultsBench } from './faults';
import { bundlesBench } from './bundles';
import { functionsBench } from './functions';
import { ioBench } from './io';
import { benchMap, formatMapBench } from './map';
import { paperBench } from './paper';
import { photonOverhead } from './photon-overhead';
import { poolBench } from './pool';
import { sharedBench } from './shared';
import type { SuiteOptions, SuiteReport } from './report';
import { simulateBench } from './simulate';
import { traceBench } from './trace';

export interface Suite {
  summary: string;
  run: (options: SuiteOptions) => Promise<SuiteReport>;
}

export const SUITES: Record<string, Suite> = {
  'photon-overhead': { summary: 'heap and time per photon vs a runtime per job (thread, process)', run: photonOverhead },
  io: { summary: '10,000 jobs that each wait 2 s through one dispatcher at default settings vs plain BullMQ inline and sandboxed', run: ioBench },
  map: {
    summary: 'items/s through map with chunkSize 1 and 100 vs plain BullMQ addBulk + Worker',
    run: async (options) => {
      const result = await benchMap({ items: options.quick ? 2_000 : 10_000, rounds: options.quick ? 1 : 3 });
      return { lines: formatMapBench(result).split('\n'), result: { suite: 'map', ...result } };
    },
  },
  dispatch: { summary: 'trivial jobs through Redis and the dispatcher vs a plain BullMQ worker', run: dispatchBench },
  paper: { summary: "the paper's five workloads at concurrency 1–64 in photon, shared, lambda modes and BullMQ sandboxed processors", run: paperBench },
  trace: { summary: 'Azure traces replayed on the real dispatcher with time compression, photon vs lambda: cold starts and memory-time', run: traceBench },
  cluster: { summary: "three functions' trivial jobs through one Redis and through a local 3-master Redis Cluster, in the same run", run: clusterBench },
  faults: {
    summary:
      'jobs lost and duplicated when a dispatcher is killed, Redis restarts, a host is cut off, a runtime blocks or runs out of heap, the API is flooded',
    run: faultsBench,
  },
  pool: {
    summary: 'the runtime pool against a piscina 5 pool with a packing load balancer: a cold burst of I/O-bound jobs, a steady CPU-bound load, a thread crash',
    run: poolBench,
  },
  bundles: { summary: 'dispatcher start-up with 300 function files, bundle cache empty vs warm', run: bundlesBench },
  shared: {
    summary: 'many small functions in runtimes shared among functions vs a runtime each: idle RSS per function, first-job latency, burst throughput',
    run: sharedBench,
  },
  functions: {
    summary: 'one dispatcher serving 1,000 functions: Redis connections, idle memory and CPU, start-up, a burst of first jobs to 300 of them',
    run: functionsBench,
  },
  simulate: { summary: "the paper's Azure-trace cluster simulation with the dispatcher's placement code, photon vs lambda", run: simulateBench },
};
