// How long a function's jobs take in a dispatcher, counted into fixed buckets so that the heartbeat
// carries a few numbers per function and the fleet's histograms add up bucket by bucket for /metrics.
import { performance } from 'node:perf_hooks';
import type { JobOutcome } from './runtime';

/**
 * Upper bounds of the buckets, in seconds: from a photon's few milliseconds to a five-minute job.
 * Fixed for every dispatcher, so histograms of different dispatchers merge; a new bound is a new
 * version of this list, and histograms with other bounds are left out of a merge rather than mixed.
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

/** The durations of one function's jobs in this dispatcher: answered jobs only (done or failed). */
export class JobDurations {
  private readonly counts = new Array<number>(DURATION_BOUNDS_SECONDS.length + 1).fill(0);
  private sum = 0;
  private count = 0;

  record(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    let bucket = DURATION_BOUNDS_SECONDS.findIndex((bound) => seconds <= bound);
    if (bucket === -1) bucket = DURATION_BOUNDS_SECONDS.length;
    this.counts[bucket]!++;
    this.sum += seconds;
    this.count++;
  }

  /**
   * Wraps a job's answer callback so that the time from now to its answer is recorded. A runtime
   * that died under the job is no answer: the job runs again and is timed then.
   */
  timed(answer: (outcome: JobOutcome) => void): (outcome: JobOutcome) => void {
    const startedAt = performance.now();
    return (outcome) => {
      if (outcome.kind !== 'runtime-died') this.record((performance.now() - startedAt) / 1000);
      answer(outcome);
    };
  }

  snapshot(): DurationHistogram {
    return { bounds: [...DURATION_BOUNDS_SECONDS], counts: [...this.counts], sum: Number(this.sum.toFixed(6)), count: this.count };
  }
}

/** Adds histograms bucket by bucket; those with other bounds (another version) are skipped. */
export function mergeDurations(histograms: ReadonlyArray<DurationHistogram | undefined>): DurationHistogram | undefined {
  const same = histograms.filter(
    (h): h is DurationHistogram =>
      h !== undefined && h.bounds.length === DURATION_BOUNDS_SECONDS.length && h.bounds.every((b, i) => b === DURATION_BOUNDS_SECONDS[i]) && h.counts.length === h.bounds.length + 1,
  );
  if (same.length === 0) return undefined;
  const merged = new JobDurations().snapshot();
  for (const h of same) {
    h.counts.forEach((n, i) => (merged.counts[i]! += n));
    merged.sum += h.sum;
    merged.count += h.count;
  }
  merged.sum = Number(merged.sum.toFixed(6));
  return merged;
}
