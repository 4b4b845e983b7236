// One side of `photons bench shared`, in a process of its own so that its RSS is its own: N small
// functions' runtime pools at the dispatcher's defaults, with or without runtimes shared among
// functions. Measures the first job of each function one after another (a cold start each), the
// RSS those functions keep once idle, and a burst of jobs to a few of them at once.
import pino from 'pino';
import { loadConfig } from '../config';
import { poolOptionsFrom } from '../dispatcher/pool-options';
import { RuntimePool } from '../dispatcher/runtime-pool';
import { SharedRuntimes } from '../dispatcher/shared-runtimes';
import { SpareThreads } from '../dispatcher/spare-threads';
import type { FunctionBundle } from '../photon-worker/bundle';
import { median, rssBytes } from './report';

export interface SharedBenchRequest {
  share: boolean;
  bundles: FunctionBundle[];
  /** How many of the functions get the burst, and how many jobs each. */
  burstFunctions: number;
  burstJobs: number;
}

export interface SharedBenchSide {
  share: boolean;
  functions: number;
  /** RSS with the functions served but none run yet (spare thread booted). */
  baseRssMB: number;
  /** RSS added per function once each ran one job and all are idle. */
  idleRssPerFunctionMB: number;
  idleRssMB: number;
  threads: number;
  firstJobP50Ms: number;
  firstJobP99Ms: number;
  firstBurstJobsPerSecond: number;
  secondBurstJobsPerSecond: number;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(request: SharedBenchRequest): Promise<SharedBenchSide> {
  const config = loadConfig({ 'log.level': 'warn', 'runtime.shareAmongFunctions': request.share });
  const logger = pino({ level: 'warn' });
  const spares = new SpareThreads(config.runtime.spareThreads, config.runtime.memoryMb);
  const shared = request.share
    ? new SharedRuntimes({
        memoryMb: config.runtime.memoryMb,
        functionsPerRuntime: config.runtime.functionsPerSharedRuntime,
        keepSpare: config.runtime.spareThreads > 0,
        logLevel: 'warn',
        logger,
      })
    : undefined;
  shared?.start();
  const pools = request.bundles.map((bundle) => new RuntimePool(poolOptionsFrom(config, bundle, logger, { spares, shared })));
  await settle(500);
  const baseRss = rssBytes();

  const firstJobMs: number[] = [];
  for (const [i, pool] of pools.entries()) {
    const started = performance.now();
    const outcome = (await pool.submit({ jobId: `first-${i}`, inputs: [{ n: i }], attempt: 1 }))[0]!;
    if (outcome.kind !== 'done') throw new Error(`first job of ${pool.functionName}: ${JSON.stringify(outcome)}`);
    firstJobMs.push(performance.now() - started);
  }
  await settle(1_000);
  const idleRss = rssBytes();
  const threads = new Set(pools.flatMap((pool) => pool.stats().runtimes.map((r) => r.threadId))).size;

  // The first burst meets the runtimes the first jobs left; the second the runtimes the first burst made.
  const burstPools = pools.slice(0, request.burstFunctions);
  const firstBurst = await burst(burstPools, request.burstJobs, 'a');
  const secondBurst = await burst(burstPools, request.burstJobs, 'b');

  await Promise.all(pools.map((pool) => pool.close()));
  await spares.close();
  await shared?.close();
  const sorted = [...firstJobMs].sort((a, b) => a - b);
  const mb = (bytes: number) => Number((bytes / 2 ** 20).toFixed(2));
  return {
    share: request.share,
    functions: pools.length,
    baseRssMB: mb(baseRss),
    idleRssMB: mb(idleRss),
    idleRssPerFunctionMB: mb((idleRss - baseRss) / pools.length),
    threads,
    firstJobP50Ms: Number(median(firstJobMs).toFixed(2)),
    firstJobP99Ms: Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!.toFixed(2)),
    firstBurstJobsPerSecond: firstBurst,
    secondBurstJobsPerSecond: secondBurst,
  };
}

/** Jobs per second through `pools`, `jobs` to each at once. */
async function burst(pools: RuntimePool[], jobs: number, tag: string): Promise<number> {
  const started = performance.now();
  await Promise.all(
    pools.flatMap((pool) =>
      Array.from({ length: jobs }, (_, j) =>
        pool.submit({ jobId: `burst-${tag}-${j}`, inputs: [{ n: j }], attempt: 1 }).then(([outcome]) => {
          if (outcome.kind !== 'done') throw new Error(`burst job of ${pool.functionName}: ${JSON.stringify(outcome)}`);
        }),
      ),
    ),
  );
  return Math.round((pools.length * jobs) / ((performance.now() - started) / 1000));
}

process.once('message', (request: SharedBenchRequest) => {
  measure(request).then(
    (side) => process.send!(side, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
