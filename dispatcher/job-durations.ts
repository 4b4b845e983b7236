// How long a function's jobs take in a dispatcher, counted into fixed buckets so that the heartbeat
// carries a few numbers per function and the fleet's histograms add up bucket by bucket for /metrics.
import { performance } from 'node:perf_hooks';
import { DURATION_BOUNDS_SECONDS, type DurationHistogram } from '../contract/heartbeat';
import type { JobOutcome } from './waiting';

// The histogram's format and merge are the contract's (contract/heartbeat.ts): readers need them without a dispatcher.
export { DURATION_BOUNDS_SECONDS, mergeDurations, type DurationHistogram, type TimedPoolStats } from '../contract/heartbeat';

/** The durations of one function's jobs in this dispatcher: answered jobs only (done or failed). */
export class JobDurations {
  private readonly counts = new Array<number>(DURATION_BOUNDS_SECONDS.length + 1).fill(0);
  private sum = 0;
  private count = 0;

  record(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    // A plain loop: this runs once per job (per item of a chunk) on the dispatcher's main thread.
    let bucket = 0;
    while (bucket < DURATION_BOUNDS_SECONDS.length && seconds > DURATION_BOUNDS_SECONDS[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += seconds;
    this.count++;
  }

  /**
   * Wraps a request's answer callback so that the time from now to its answer is recorded for each
   * of its inputs (a chunk's items each count). A runtime that died under an input is no answer:
   * it runs again and is timed then.
   */
  timed(answer: (outcomes: JobOutcome[]) => void): (outcomes: JobOutcome[]) => void {
    const startedAt = performance.now();
    return (outcomes) => {
      const seconds = (performance.now() - startedAt) / 1000;
      for (const outcome of outcomes) if (outcome.kind !== 'runtime-died') this.record(seconds);
      answer(outcomes);
    };
  }

  snapshot(): DurationHistogram {
    return { bounds: [...DURATION_BOUNDS_SECONDS], counts: [...this.counts], sum: Number(this.sum.toFixed(6)), count: this.count };
  }
}
