// Functions and arrivals drawn from the published distributions of the 2019 Azure trace
// (traces/README.md), for runs larger than the fixtures: the cluster simulation and the replay.
import { burrQuantile, clamp, exponential, logNormal, shuffle, type Random } from './random';
import { finish, type Trace, type TraceInvocation } from './trace';

export interface FunctionProfile {
  name: string;
  /** Mean invocations per second. */
  ratePerSec: number;
  /** Arrivals come in bursts (on/off Markov-modulated Poisson) rather than as plain Poisson. */
  bursty: boolean;
  meanDurationMs: number;
  /** Memory an invocation needs, in MB: the runtime and what it loads (shareable) plus its own. */
  memoryMb: number;
  /** Of memoryMb, what every invocation of a runtime can share (runtime, libraries, models). */
  shareableMb: number;
  /** Share of one core an invocation keeps busy while it runs: one of the paper's five workloads. */
  cpu: number;
}

export interface PopulationOptions {
  functions: number;
  /** Sum of the mean rates of all functions, invocations per second. */
  totalRatePerSec: number;
  /** Share of functions whose arrivals are bursty (published: 40% of apps have a CV above 1). */
  burstyShare: number;
  /** Mean shareable memory per runtime in MB (the paper's simulation: about 100 MB). */
  shareableMb: number;
  /** Durations are clamped to this range (the paper: 1 ms to 10 min). */
  minDurationMs: number;
  maxDurationMs: number;
  /** Memory is clamped to this range (the paper: 100 to 1,800 MB). */
  minMemoryMb: number;
  maxMemoryMb: number;
}

/** Published shape of the invocation rates: 45% of apps at most hourly, 81% at most once a minute. */
const HOURLY_SHARE = 0.45;
const MINUTELY_SHARE = 0.81;
/** Rates span eight orders of magnitude. */
const RATE_SPAN = 1e8;
/** Execution time, log-normal fit in seconds. */
const DURATION_MU = -0.38;
const DURATION_SIGMA = 2.36;
/** CPU of the paper's workloads (Table 1): Sleep, REST, Hash, Classify, Video. */
const WORKLOAD_CPU = [0.1, 0.1, 0.2, 0.7, 1];
/** Allocated memory, Burr XII fit in MB. */
const BURR = { c: 11.652, k: 0.221, lambda: 107.083 };

/**
 * Rate of the function at rate quantile p (per minute), log-linear between the published points;
 * `top` is the busiest rate, solved for so that the rates add up to the asked total.
 */
function rateAt(p: number, top: number): number {
  const hourly = 1 / 60;
  const bottom = top / RATE_SPAN;
  const logLerp = (a: number, b: number, t: number): number => Math.exp(Math.log(a) + (Math.log(b) - Math.log(a)) * t);
  if (p <= HOURLY_SHARE) return logLerp(Math.min(bottom, hourly), hourly, p / HOURLY_SHARE);
  if (p <= MINUTELY_SHARE) return logLerp(hourly, 1, (p - HOURLY_SHARE) / (MINUTELY_SHARE - HOURLY_SHARE));
  return logLerp(1, Math.max(1, top), (p - MINUTELY_SHARE) / (1 - MINUTELY_SHARE));
}

export function generatePopulation(options: PopulationOptions, random: Random): FunctionProfile[] {
  const n = options.functions;
  // Stratified quantiles (one per function), shuffled: the shape holds even for a few functions.
  const quantiles = shuffle(
    Array.from({ length: n }, (_, i) => (i + 0.5) / n),
    random,
  );
  const perMinuteTotal = options.totalRatePerSec * 60;
  const sum = (top: number): number => quantiles.reduce((s, p) => s + rateAt(p, top), 0);
  let lo = 1;
  let hi = 1e9;
  for (let i = 0; i < 100; i++) {
    const mid = Math.sqrt(lo * hi);
    if (sum(mid) < perMinuteTotal) lo = mid;
    else hi = mid;
  }
  const top = Math.sqrt(lo * hi);
  return quantiles.map((p, i) => {
    const memoryMb = clamp(burrQuantile(random(), BURR.c, BURR.k, BURR.lambda), options.minMemoryMb, options.maxMemoryMb);
    return {
      name: `fn${String(i).padStart(5, '0')}`,
      ratePerSec: rateAt(p, top) / 60,
      bursty: random() < options.burstyShare,
      meanDurationMs: clamp(logNormal(random, DURATION_MU, DURATION_SIGMA) * 1000, options.minDurationMs, options.maxDurationMs),
      memoryMb,
      // Never all of it: an invocation always has something of its own.
      shareableMb: Math.min(options.shareableMb * (0.5 + random()), 0.8 * memoryMb),
      cpu: WORKLOAD_CPU[Math.floor(random() * WORKLOAD_CPU.length)]!,
    };
  });
}

/** One invocation's duration: the function's mean with a log-normal spread that keeps the mean. */
export function invocationDurationMs(profile: FunctionProfile, random: Random, min = 1, max = 600_000): number {
  const sigma = 0.5;
  return clamp(profile.meanDurationMs * logNormal(random, -(sigma * sigma) / 2, sigma), min, max);
}

/** Bursts: on for 30 s on average, off four times as long; the mean rate stays the function's. */
const BURST_ON_MS = 30_000;
const BURST_ON_SHARE = 0.2;

/** Arrival times of one function, one after another. */
export class ArrivalProcess {
  private on = true;
  private switchAt: number;

  constructor(
    private readonly profile: FunctionProfile,
    private readonly random: Random,
    start = 0,
  ) {
    // Start in the on or off state in proportion to their shares of time.
    this.on = !profile.bursty || random() < BURST_ON_SHARE;
    this.switchAt = start + this.sojournMs();
  }

  /**
   * The next arrival after `now` (ms); Infinity when there is none before `until` (a rarely
   * invoked bursty function would otherwise cycle through thousands of bursts to find one).
   */
  next(now: number, until = Infinity): number {
    const { ratePerSec, bursty } = this.profile;
    if (ratePerSec <= 0) return Infinity;
    if (!bursty) return now + exponential(this.random, 1000 / ratePerSec);
    const onRate = ratePerSec / BURST_ON_SHARE;
    let t = now;
    while (t < until) {
      if (this.on) {
        // Memoryless: a draw that crosses the switch is thrown away and redrawn after it.
        const candidate = t + exponential(this.random, 1000 / onRate);
        if (candidate < this.switchAt) return candidate;
      }
      t = this.switchAt;
      this.on = !this.on;
      this.switchAt = t + this.sojournMs();
    }
    return Infinity;
  }

  private sojournMs(): number {
    const mean = this.on ? BURST_ON_MS : (BURST_ON_MS * (1 - BURST_ON_SHARE)) / BURST_ON_SHARE;
    return exponential(this.random, mean);
  }
}

/** A whole trace from a population, for the replay: every arrival of every function in `spanMs`. */
export function generateTrace(population: FunctionProfile[], spanMs: number, random: Random): Trace {
  const invocations: TraceInvocation[] = [];
  for (const profile of population) {
    const arrivals = new ArrivalProcess(profile, random);
    for (let t = arrivals.next(0, spanMs); t < spanMs; t = arrivals.next(t, spanMs)) {
      invocations.push({ fn: profile.name, startMs: t, durationMs: invocationDurationMs(profile, random) });
    }
  }
  const used = new Set(invocations.map((i) => i.fn));
  const functions = population.filter((p) => used.has(p.name)).map((p) => ({ name: p.name, memoryMb: p.memoryMb }));
  return finish('generated', functions, invocations);
}

/** How the population compares with the published figures: printed beside the results. */
export function calibration(population: FunctionProfile[]): Record<string, number> {
  const rates = population.map((p) => p.ratePerSec).sort((a, b) => b - a);
  const total = rates.reduce((s, r) => s + r, 0);
  const topCount = Math.round(0.186 * rates.length);
  const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
  const durations = sorted(population.map((p) => p.meanDurationMs));
  const memory = sorted(population.map((p) => p.memoryMb));
  const share = (pred: (p: FunctionProfile) => boolean): number => population.filter(pred).length / population.length;
  return {
    atMostHourly: share((p) => p.ratePerSec <= 1 / 3600),
    atMostMinutely: share((p) => p.ratePerSec <= 1 / 60),
    busiest186Share: rates.slice(0, topCount).reduce((s, r) => s + r, 0) / total,
    medianMeanDurationMs: durations[Math.floor(durations.length / 2)]!,
    medianMemoryMb: memory[Math.floor(memory.length / 2)]!,
    memoryAtMost400: share((p) => p.memoryMb <= 400),
    bursty: share((p) => p.bursty),
  };
}
