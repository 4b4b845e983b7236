// `photons bench simulate`: the paper's Azure-trace simulation (100 hosts × 40 GB, 10,000 functions,
// 15 minutes) run with the dispatcher's placement code, photon against lambda, Poisson and bursty.
import * as path from 'node:path';
import { saveResults } from '../paper-results';
import { machine, table, type SuiteOptions, type SuiteReport } from '../report';
import { calibration, generatePopulation, invocationDurationMs, ArrivalProcess, type FunctionProfile } from '../trace/generator';
import { clamp, normal, seeded } from '../trace/random';
import { simulateCluster, type ClusterOptions, type ClusterResult, type SimMode, type Workload } from './cluster';

const SEED = 2020;

interface Setup {
  hosts: number;
  hostMemoryMb: number;
  functions: number;
  horizonMs: number;
  totalRatePerSec: number;
}

/** The paper: 100 machines × 40 GB, 10,000 functions, 15 minutes, 1.8 million invocations. */
const PAPER: Setup = { hosts: 100, hostMemoryMb: 40 * 1024, functions: 10_000, horizonMs: 15 * 60_000, totalRatePerSec: 2_000 };
/** A tenth of the cluster and of the load, five minutes: for CI. */
const QUICK: Setup = { hosts: 10, hostMemoryMb: 40 * 1024, functions: 1_000, horizonMs: 5 * 60_000, totalRatePerSec: 200 };

/**
 * How a runtime uses CPU. `node`: a runtime is one event loop, so photons that together want more
 * than a core slow each other down, and a function's photonsPerRuntime is what fills one core.
 * `jvm`: the paper's assumption (a JVM runs its photons on every core): no slowdown, 64 per runtime.
 */
type CpuModel = 'node' | 'jvm';

const TARGETS = { coldStartReduction: 0.52, burstyColdStartReduction: 0.75, memoryTimeReduction: 0.3, speedupUnder100ms: 3, speedupUnder10ms: 20 };

interface Scenario {
  photon: ClusterResult;
  lambda: ClusterResult;
}

export async function simulateBench(options: SuiteOptions): Promise<SuiteReport> {
  const setup = options.quick ? QUICK : PAPER;
  const started = performance.now();
  const runs: Record<string, Scenario> = {};
  let population: FunctionProfile[] = [];
  for (const arrivals of ['poisson', 'bursty'] as const) {
    population = generatePopulation(
      {
        functions: setup.functions,
        totalRatePerSec: setup.totalRatePerSec,
        burstyShare: arrivals === 'bursty' ? 1 : 0,
        shareableMb: 100,
        minDurationMs: 1,
        maxDurationMs: 600_000,
        minMemoryMb: 100,
        maxMemoryMb: 1_800,
      },
      seeded(SEED),
    );
    for (const cpu of ['node', 'jvm'] as const) {
      const run = (mode: SimMode): ClusterResult => simulateCluster(workloadOf(population, cpu, setup.horizonMs), clusterOptions(setup, mode));
      runs[`${arrivals}/${cpu}`] = { photon: run('photon'), lambda: run('lambda') };
      // Give the event loop a turn between long synchronous runs.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const compared = Object.fromEntries(Object.entries(runs).map(([name, s]) => [name, compare(s)]));
  const headline = compared['poisson/node']!;
  const met = Object.fromEntries(
    Object.entries(compared).map(([name, c]) => [
      name,
      {
        coldStartReduction: c.coldStartReduction >= (name.startsWith('bursty') ? TARGETS.burstyColdStartReduction : TARGETS.coldStartReduction),
        memoryTimeReduction: c.memoryTimeReduction >= TARGETS.memoryTimeReduction,
        speedupUnder100ms: c.speedupUnder100ms >= TARGETS.speedupUnder100ms,
        speedupUnder10ms: c.speedupUnder10ms >= TARGETS.speedupUnder10ms,
      },
    ]),
  );
  const result = {
    suite: 'simulate',
    setup: { ...setup, keepAliveMs: KEEP_ALIVE_MS, coldStartMs: '~N(300, 50)', seed: SEED },
    coldStartReduction: headline.coldStartReduction,
    memoryTimeReduction: headline.memoryTimeReduction,
    speedupUnder100ms: headline.speedupUnder100ms,
    speedupUnder10ms: headline.speedupUnder10ms,
    headline: 'poisson/node',
    compared,
    runs: Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, { photon: withoutRecords(r.photon), lambda: withoutRecords(r.lambda) }])),
    targets: TARGETS,
    met,
    calibration: calibration(population),
    seconds: round((performance.now() - started) / 1000),
    machine: machine(),
  };
  const rows = Object.entries(runs).flatMap(([name, s]) =>
    (['lambda', 'photon'] as const).map((mode) => {
      const r = s[mode];
      return [
        name,
        mode,
        r.invocations,
        r.coldStarts,
        r.meanMemoryGb,
        r.memoryGbSeconds,
        `${(r.utilisation * 100).toFixed(1)}%`,
        r.latency.under10ms.meanLatencyMs,
        r.latency.under100ms.meanLatencyMs,
        r.latency.all.meanLatencyMs,
      ];
    }),
  );
  const verdict = (ok: boolean | undefined): string => (ok ? 'met' : 'MISSED');
  const lines = [
    `Cluster simulation: ${setup.hosts} hosts × ${setup.hostMemoryMb / 1024} GB, ${setup.functions.toLocaleString('en-US')} functions, ` +
      `${setup.horizonMs / 60_000} min, keep-alive ${KEEP_ALIVE_MS / 60_000} min, cold start ~N(300 ms, 50 ms), placement from dispatcher/placement.ts`,
    'CPU model node: a runtime is one event loop (photons share one core; photonsPerRuntime fills a core).',
    "CPU model jvm: the paper's assumption, a runtime uses every core (no slowdown, 64 photons per runtime).",
    '',
    ...table(['arrivals/cpu', 'mode', 'invocations', 'cold starts', 'mean GB', 'GB·s', 'utilisation', 'lat <10ms', 'lat <100ms', 'lat all (ms)'], rows),
    '',
    ...Object.entries(compared).map(
      ([name, c]) =>
        `${name}: cold starts −${pct(c.coldStartReduction)} (paper ${name.startsWith('bursty') ? '75' : '52'}%: ${verdict(met[name]!.coldStartReduction)}), ` +
        `memory-time −${pct(c.memoryTimeReduction)} (30%: ${verdict(met[name]!.memoryTimeReduction)}), ` +
        `speed-up of short invocations spared a cold start (${c.spared.toLocaleString('en-US')} under 100 ms): <100 ms ${c.speedupUnder100ms}× (3×: ${verdict(met[name]!.speedupUnder100ms)}), ` +
        `<10 ms ${c.speedupUnder10ms}× (20×: ${verdict(met[name]!.speedupUnder10ms)}); mean latency of all <100 ms: ${c.meanSpeedupUnder100ms}×`,
    ),
    `Generated population against the published trace: ${describeCalibration(result.calibration)}`,
  ];
  const report = { lines, result };
  if (!options.quick) lines.push(`Results: ${path.relative(process.cwd(), saveResults('simulate', report))} and bench/RESULTS.md`);
  return report;
}

type Comparison = Record<'coldStartReduction' | 'memoryTimeReduction' | 'speedupUnder100ms' | 'speedupUnder10ms' | 'spared' | 'meanSpeedupUnder100ms', number>;

function compare(s: Scenario): Comparison {
  const under100 = spared(s, 100);
  return {
    coldStartReduction: round(1 - s.photon.coldStarts / s.lambda.coldStarts),
    memoryTimeReduction: round(1 - s.photon.memoryGbSeconds / s.lambda.memoryGbSeconds),
    speedupUnder100ms: round(under100.speedup),
    speedupUnder10ms: round(spared(s, 10).speedup),
    spared: under100.count,
    meanSpeedupUnder100ms: round(s.lambda.latency.under100ms.meanLatencyMs / s.photon.latency.under100ms.meanLatencyMs),
  };
}

/**
 * The paper's speed-up "counting the cold starts avoided": over the short invocations that waited
 * for a cold start under lambda and not under photon, the mean of lambda latency / photon latency.
 * Arrival order is the same in both runs, so index i is the same invocation.
 */
function spared(s: Scenario, underMs: number): { count: number; speedup: number } {
  const lambda = s.lambda.perInvocation;
  const photon = s.photon.perInvocation;
  let count = 0;
  let sum = 0;
  for (let i = 0; i < lambda.latencyMs.length; i++) {
    if (lambda.durationMs[i]! >= underMs || !lambda.waited[i] || photon.waited[i]) continue;
    count++;
    sum += lambda.latencyMs[i]! / photon.latencyMs[i]!;
  }
  return { count, speedup: count ? sum / count : NaN };
}

function withoutRecords(result: ClusterResult): Omit<ClusterResult, 'perInvocation'> {
  const { perInvocation: _records, ...rest } = result;
  return rest;
}

const KEEP_ALIVE_MS = 10 * 60_000;
/** The dispatcher's default photonsPerRuntime. */
const MAX_PHOTONS_PER_RUNTIME = 64;

function clusterOptions(setup: Setup, mode: SimMode): ClusterOptions {
  const coldStart = seeded(SEED + 1);
  return {
    mode,
    hosts: setup.hosts,
    hostMemoryMb: setup.hostMemoryMb,
    horizonMs: setup.horizonMs,
    keepAliveMs: KEEP_ALIVE_MS,
    coldStartMs: () => clamp(normal(coldStart, 300, 50), 50, 1_000),
    maxRuntimesPerFunction: 100_000,
    eluHigh: 0.9,
    heapHeadroom: 0.8,
  };
}

/** Arrivals and durations drawn per function: both modes see exactly the same invocations. */
function workloadOf(population: FunctionProfile[], cpu: CpuModel, horizonMs: number): Workload {
  const arrivals = population.map((profile, i) => new ArrivalProcess(profile, seeded(SEED * 7919 + i)));
  const durations = population.map((_, i) => seeded(SEED * 104_729 + i));
  return {
    functions: population.map((p) => ({
      memoryMb: p.memoryMb,
      shareableMb: p.shareableMb,
      cpu: cpu === 'node' ? p.cpu : 0,
      photonsPerRuntime: cpu === 'node' ? Math.max(1, Math.min(MAX_PHOTONS_PER_RUNTIME, Math.floor(1 / p.cpu))) : MAX_PHOTONS_PER_RUNTIME,
    })),
    nextArrival: (fn, now) => arrivals[fn]!.next(now, horizonMs),
    durationMs: (fn) => invocationDurationMs(population[fn]!, durations[fn]!),
  };
}

function describeCalibration(c: Record<string, number>): string {
  return [
    `${pct(c.atMostHourly!)} of functions at most hourly (45%)`,
    `${pct(c.atMostMinutely!)} at most once a minute (81%)`,
    `busiest 18.6% make ${pct(c.busiest186Share!)} of invocations (99.6%)`,
    `median mean duration ${Math.round(c.medianMeanDurationMs!)} ms (half under 1 s)`,
    `median memory ${Math.round(c.medianMemoryMb!)} MB (170 MB)`,
    `${pct(c.memoryAtMost400!)} at most 400 MB (90%)`,
  ].join(', ');
}

function round(value: number): number {
  return Number(value.toFixed(3));
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
