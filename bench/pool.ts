// `photons bench pool`: the project's runtime pool against a piscina 5 pool with a packing load
// balancer, the same limits and the same work: a cold burst of I/O-bound jobs, a steady CPU-bound
// load, and a thread that runs out of heap mid-load. Each pool runs each scenario in a fresh
// process (bench/pool-run.ts). The verdict is the rule for adopting piscina: no more threads, no
// more memory, throughput and p99 within 5 %, no job lost.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONTENDERS, type ContenderName } from './pool-contenders';
import type { BurstResult, CrashResult, ScenarioName, ScenarioRequest, SteadyResult } from './pool-run';
import { machine, median, table, type SuiteOptions, type SuiteReport } from './report';

type Both<T> = Record<ContenderName, T>;

export interface PoolVerdict {
  noMoreThreads: boolean;
  noMoreMemory: boolean;
  throughputWithin5Percent: boolean;
  p99Within5Percent: boolean;
  losesNoJob: boolean;
  /** All of the above: piscina could replace the pool. */
  adopt: boolean;
}

function runInProcess(request: ScenarioRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'pool-run.js'), [JSON.stringify(request)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let result: unknown;
    child.once('message', (message) => (result = message));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`bench pool: ${request.scenario} on ${request.contender} ended with code ${code}`));
    });
  });
}

async function both<T>(scenario: ScenarioName, quick: boolean): Promise<Both<T>> {
  const results = {} as Both<T>;
  for (const contender of CONTENDERS) results[contender] = (await runInProcess({ scenario, contender, quick })) as T;
  return results;
}

/**
 * The steady load in alternating rounds, each pool's median: on a shared, loaded machine one round
 * each would compare the machine's moods as much as the pools.
 */
async function steadyRounds(rounds: number, quick: boolean): Promise<Both<SteadyResult & { runs: number }>> {
  const runs: Record<ContenderName, SteadyResult[]> = { photons: [], piscina: [] };
  for (let i = 0; i < rounds; i++) {
    const round = await both<SteadyResult>('steady', quick);
    for (const contender of CONTENDERS) runs[contender].push(round[contender]);
  }
  const medianOf = (contender: ContenderName): SteadyResult & { runs: number } => {
    const all = runs[contender];
    return {
      ...all[0]!,
      jobsPerSec: median(all.map((r) => r.jobsPerSec)),
      p50Ms: median(all.map((r) => r.p50Ms)),
      p99Ms: median(all.map((r) => r.p99Ms)),
      runs: rounds,
    };
  };
  return { photons: medianOf('photons'), piscina: medianOf('piscina') };
}

function piscinaVersion(): string {
  const manifest = path.resolve(__dirname, '..', '..', 'bench', 'workloads', 'node_modules', 'piscina', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export function verdictOf(burst: Both<BurstResult>, steady: Both<SteadyResult>, crash: Both<CrashResult>): PoolVerdict {
  const verdict = {
    noMoreThreads: burst.piscina.threads <= burst.photons.threads,
    noMoreMemory: burst.piscina.peakRssMB <= burst.photons.peakRssMB && burst.piscina.heapMB <= burst.photons.heapMB,
    throughputWithin5Percent: steady.piscina.jobsPerSec >= 0.95 * steady.photons.jobsPerSec,
    p99Within5Percent: steady.piscina.p99Ms <= 1.05 * steady.photons.p99Ms,
    losesNoJob: crash.piscina.lost === 0,
  };
  return { ...verdict, adopt: Object.values(verdict).every(Boolean) };
}

export async function poolBench(options: SuiteOptions): Promise<SuiteReport> {
  const burst = await both<BurstResult>('burst', options.quick);
  const steady = await steadyRounds(options.quick ? 1 : 3, options.quick);
  const crash = await both<CrashResult>('crash', options.quick);
  const verdict = verdictOf(burst, steady, crash);
  const version = piscinaVersion();
  const label = (c: ContenderName): string => (c === 'photons' ? 'photons RuntimePool' : `piscina ${version}, packing`);
  const b = burst.photons;
  const s = steady.photons;
  const c = crash.photons;
  const lines = [
    `Cold burst: ${b.jobs} jobs that each wait ${b.jobMs} ms, submitted at once to a cold pool`,
    '',
    ...table(
      ['pool', 'threads', 'peak RSS', 'heap', 'last answer'],
      CONTENDERS.map((n) => [label(n), String(burst[n].threads), `${burst[n].peakRssMB} MB`, `${burst[n].heapMB} MB`, `${burst[n].seconds} s`]),
    ),
    '',
    `Steady CPU-bound load: ${s.inFlight} jobs in flight (${s.hashRounds} sha256 rounds each) for ${s.seconds} s after a warm-up; median of ${s.runs} alternating run(s)`,
    '',
    ...table(
      ['pool', 'jobs/s', 'p50', 'p99'],
      CONTENDERS.map((n) => [label(n), String(steady[n].jobsPerSec), `${steady[n].p50Ms} ms`, `${steady[n].p99Ms} ms`]),
    ),
    '',
    `Crash: one job fills its thread's heap while ${c.jobs} jobs of ${c.jobMs} ms run in its thread; a job present at a death runs again alone, failed as poison at the second`,
    '',
    ...table(
      ['pool', 'answered', 'lost', 're-runs', 'deaths', 'last answer'],
      CONTENDERS.map((n) => [
        label(n),
        `${crash[n].answered}/${crash[n].jobs}`,
        String(crash[n].lost),
        String(crash[n].reruns),
        String(crash[n].deaths),
        `${crash[n].seconds} s`,
      ]),
    ),
    '',
    `piscina: ${verdict.noMoreThreads ? 'no more' : 'more'} threads, ${verdict.noMoreMemory ? 'no more' : 'more'} memory, throughput ${verdict.throughputWithin5Percent ? 'within' : 'not within'} 5 %, p99 ${verdict.p99Within5Percent ? 'within' : 'not within'} 5 %, ${verdict.losesNoJob ? 'no job lost' : 'jobs lost'}: ${verdict.adopt ? 'adopt' : 'keep the project pool'}.`,
  ];
  return { lines, result: { suite: 'pool', quick: options.quick, piscinaVersion: version, burst, steady, crash, verdict, machine: machine() } };
}
