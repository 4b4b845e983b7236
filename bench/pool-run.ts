// One scenario of `photons bench pool` on one pool, in a process of its own (forked by
// bench/pool.ts) so that its threads and memory are all it measures.
import { pbkdf2 } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { POISON_DEATHS } from '../dispatcher/runtime-pool';
import type { PoolWork } from './functions/pool-work';
import { startContender, type Contender, type ContenderName } from './pool-contenders';
import { rssBytes } from './report';

export type ScenarioName = 'burst' | 'steady' | 'crash';

export interface ScenarioRequest {
  scenario: ScenarioName;
  contender: ContenderName;
  quick: boolean;
}

export interface BurstResult {
  jobs: number;
  jobMs: number;
  /** Most threads alive at once beyond those of the process before the pool started. */
  threads: number;
  peakRssMB: number;
  /** Heap used by the threads that answered, each at its largest. */
  heapMB: number;
  seconds: number;
}

export interface SteadyResult {
  inFlight: number;
  /** sha256 rounds per job. */
  hashRounds: number;
  seconds: number;
  jobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface CrashResult {
  jobs: number;
  jobMs: number;
  /** Jobs (not the one that fills the heap) answered in the end. */
  answered: number;
  /** Jobs (not the one that fills the heap) failed as poison: lost. */
  lost: number;
  /** Runs beyond the first, of jobs that did not fill the heap. */
  reruns: number;
  /** Thread deaths the one job that fills the heap caused before it was failed as poison. */
  deaths: number;
  seconds: number;
}

const MB = 1024 * 1024;

function liveThreads(): number {
  return readdirSync('/proc/self/task').length;
}

/** libuv starts its thread pool on first use (fs, crypto): started before counting, so only the pool's threads count. */
async function startLibuvThreads(): Promise<void> {
  await Promise.all(Array.from({ length: 4 }, () => promisify(pbkdf2)('warm', 'up', 1, 32, 'sha256')));
}

/** The dispatcher's policy (dispatcher/job-runner.ts): a job present at a death runs again alone, until POISON_DEATHS. */
async function runHandingBack(pool: Contender, work: PoolWork): Promise<{ ok: boolean; runs: number }> {
  for (let deaths = 0; ;) {
    const outcome = await pool.submit(work, deaths > 0);
    if (outcome.kind === 'done') return { ok: true, runs: deaths + 1 };
    if (++deaths >= POISON_DEATHS) return { ok: false, runs: deaths };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** A cold pool gets `jobs` jobs that each wait: threads, memory and time to the last answer. */
async function burst(name: ContenderName, quick: boolean): Promise<BurstResult> {
  const jobs = 1_000;
  const jobMs = quick ? 500 : 1_000;
  await startLibuvThreads();
  const threadsBefore = liveThreads();
  const rssBefore = rssBytes();
  let threads = 0;
  let rss = 0;
  const sample = (): void => {
    threads = Math.max(threads, liveThreads() - threadsBefore);
    rss = Math.max(rss, rssBytes() - rssBefore);
  };
  const sampler = setInterval(sample, 20);
  const started = performance.now();
  const pool = await startContender(name, { memoryMb: 512 });
  const heaps = new Map<number, number>();
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      const outcome = await pool.submit({ kind: 'io', ms: jobMs }, false);
      if (outcome.kind !== 'done') throw new Error(`A job of the burst did not finish: ${outcome.message}`);
      heaps.set(outcome.answer.threadId, Math.max(heaps.get(outcome.answer.threadId) ?? 0, outcome.answer.heapUsed));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  sample();
  clearInterval(sampler);
  await pool.close();
  const heap = [...heaps.values()].reduce((sum, bytes) => sum + bytes, 0);
  return { jobs, jobMs, threads, peakRssMB: round(rss / MB), heapMB: round(heap / MB), seconds: round(seconds, 2) };
}

/** A closed loop of CPU-bound jobs, measured after a warm-up: jobs/s and latency. */
async function steady(name: ContenderName, quick: boolean): Promise<SteadyResult> {
  const inFlight = 8;
  const hashRounds = 2_000;
  const warmupMs = 2_000;
  const measureMs = quick ? 3_000 : 10_000;
  const pool = await startContender(name, { memoryMb: 512 });
  const latencies: number[] = [];
  const begin = performance.now() + warmupMs;
  const end = begin + measureMs;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const sent = performance.now();
        const outcome = await pool.submit({ kind: 'cpu', rounds: hashRounds }, false);
        if (outcome.kind !== 'done') throw new Error(`A CPU-bound job did not finish: ${outcome.message}`);
        const answered = performance.now();
        if (sent >= begin && answered <= end) latencies.push(answered - sent);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    inFlight,
    hashRounds,
    seconds: measureMs / 1000,
    jobsPerSec: round(latencies.length / (measureMs / 1000)),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
  };
}

/** Jobs in flight when one job fills its thread's heap: what is lost, what runs again. */
async function crash(name: ContenderName, quick: boolean): Promise<CrashResult> {
  // Fewer than a thread's slots: the job that fills the heap lands in the thread they run in.
  const jobs = 32;
  const jobMs = quick ? 500 : 1_000;
  const pool = await startContender(name, { memoryMb: 128 });
  const started = performance.now();
  const innocent = Array.from({ length: jobs }, () => runHandingBack(pool, { kind: 'io', ms: jobMs }));
  // Mid-load: the others are running when this one arrives.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const poison = await runHandingBack(pool, { kind: 'out-of-heap' });
  const outcomes = await Promise.all(innocent);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return {
    jobs,
    jobMs,
    answered: outcomes.filter((o) => o.ok).length,
    lost: outcomes.filter((o) => !o.ok).length,
    reruns: outcomes.reduce((sum, o) => sum + o.runs - 1, 0),
    deaths: poison.runs,
    seconds: round(seconds, 2),
  };
}

export function runScenario(request: ScenarioRequest): Promise<BurstResult | SteadyResult | CrashResult> {
  const scenarios = { burst, steady, crash };
  return scenarios[request.scenario](request.contender, request.quick);
}

if (require.main === module) {
  const request = JSON.parse(process.argv[2] ?? '{}') as ScenarioRequest;
  runScenario(request).then(
    (result) => process.send!(result, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
