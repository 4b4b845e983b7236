// A dispatcher's heartbeat as it lies in Redis (JSON under PhotonsKeys.heartbeat): what it runs,
// and counters of what it did. Dispatchers write it, `photons status`, the dashboard and /metrics
// read it, possibly from another version: readers tolerate missing fields.
import type { Mode } from '../photon-worker/types';

/**
 * Upper bounds of the duration buckets, in seconds: from a photon's few milliseconds to a
 * five-minute job. Fixed for every dispatcher, so histograms of different dispatchers merge; a
 * new bound is a new version of this list, and histograms with other bounds are left out of a
 * merge rather than mixed.
 */
export const DURATION_BOUNDS_SECONDS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);

/** A histogram as the heartbeat carries it (JSON). */
export interface DurationHistogram {
  /** Upper bounds in seconds, ascending; a last, implicit bucket holds everything above. */
  bounds: number[];
  /** Jobs per bucket (not cumulative): bounds.length + 1 entries, the last one above every bound. */
  counts: number[];
  /** Sum of every recorded duration, in seconds. */
  sum: number;
  count: number;
}

export interface RuntimeStats {
  id: number;
  threadId: number;
  state: string;
  photons: number;
  heapUsed: number;
  heapPerPhoton: number;
  baseHeap: number;
  elu: number;
  ageMs: number;
}

/** What one runtime pool (one function in one dispatcher) reports. */
export interface PoolStats {
  fn: string;
  mode: Mode;
  runtimes: RuntimeStats[];
  photonsInFlight: number;
  queued: number;
  coldStarts: number;
  runtimeDeaths: number;
  completed: number;
  failed: number;
  /** Jobs answered (completed or failed) over the last 60 seconds. */
  answeredLastMinute: number;
  /** How long answered jobs took, from reaching the pool to their answer. */
  durations: DurationHistogram;
}

/** The stats of one function as a heartbeat carries them; a dispatcher of an older version may lack durations. */
export type TimedPoolStats = Omit<PoolStats, 'durations'> & { durations?: DurationHistogram };

/** A dispatcher's memory budget and what its runtimes hold of it (ARCHITECTURE.md, "Scheduling / fetching"). */
export interface MemoryStats {
  budgetMb: number;
  usedMb: number;
  /** Functions that would fetch more jobs but for the budget: their jobs wait in Redis. */
  limited: string[];
}

/** One dispatcher's heartbeat. */
export interface DispatcherStats {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  at: number;
  functions: PoolStats[];
  /** Absent in heartbeats of older dispatchers. */
  memory?: MemoryStats;
  /** Functions whose queue workers run now (the others are watched by one pipelined check). */
  fetching?: number;
}

/** An empty histogram over DURATION_BOUNDS_SECONDS. */
export function emptyDurations(): DurationHistogram {
  return { bounds: [...DURATION_BOUNDS_SECONDS], counts: new Array<number>(DURATION_BOUNDS_SECONDS.length + 1).fill(0), sum: 0, count: 0 };
}

/** Adds histograms bucket by bucket; those with other bounds (another version) are skipped. */
export function mergeDurations(histograms: ReadonlyArray<DurationHistogram | undefined>): DurationHistogram | undefined {
  const same = histograms.filter(
    (h): h is DurationHistogram =>
      h !== undefined &&
      h.bounds.length === DURATION_BOUNDS_SECONDS.length &&
      h.bounds.every((b, i) => b === DURATION_BOUNDS_SECONDS[i]) &&
      h.counts.length === h.bounds.length + 1,
  );
  if (same.length === 0) return undefined;
  const merged = emptyDurations();
  for (const h of same) {
    h.counts.forEach((n, i) => (merged.counts[i]! += n));
    merged.sum += h.sum;
    merged.count += h.count;
  }
  merged.sum = Number(merged.sum.toFixed(6));
  return merged;
}
