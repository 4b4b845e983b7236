// What one runtime pool reports (heartbeats, `photons status`, /metrics): its runtimes as they are
// now, and counters of what it did: outcomes, cold starts, runtime deaths, durations, and the jobs
// answered over the last minute.
import type { PoolStats } from '../contract/heartbeat';
import type { Mode } from '../photon-worker/types';
import { JobDurations } from './job-durations';
import type { Runtime } from './runtime';
import type { JobOutcome } from './waiting';

// The heartbeat's format is the contract's (contract/heartbeat.ts): readers need it without a dispatcher.
export type { PoolStats, RuntimeStats } from '../contract/heartbeat';

export class PoolCounters {
  coldStarts = 0;
  runtimeDeaths = 0;
  completed = 0;
  failed = 0;
  private readonly durations = new JobDurations();
  /** Answered totals, one sample per second for the last minute: the rate status reports. */
  private answeredSamples: number[] = [];

  /** Wraps a request's answer: its inputs are timed and counted on their way. */
  counted(resolve: (outcomes: JobOutcome[]) => void): (outcomes: JobOutcome[]) => void {
    return this.durations.timed((outcomes: JobOutcome[]) => {
      for (const outcome of outcomes) {
        if (outcome.kind === 'done') this.completed++;
        else if (outcome.kind === 'failed') this.failed++;
      }
      resolve(outcomes);
    });
  }

  /** Call once a second. */
  sample(): void {
    this.answeredSamples.push(this.completed + this.failed);
    if (this.answeredSamples.length > 60) this.answeredSamples.shift();
  }

  snapshot(fn: string, mode: Mode, runtimes: Runtime[], queued: number): PoolStats {
    const { coldStarts, runtimeDeaths, completed, failed } = this;
    return {
      fn,
      mode,
      runtimes: runtimes.map((r) => ({
        id: r.id,
        threadId: r.threadId,
        state: r.state,
        photons: r.inFlight,
        heapUsed: r.heapUsed,
        heapPerPhoton: Math.round(r.heapPerPhoton),
        baseHeap: r.baseHeap,
        elu: Number(r.elu.toFixed(3)),
        ageMs: Date.now() - r.startedAt,
      })),
      photonsInFlight: runtimes.reduce((sum, r) => sum + r.inFlight, 0),
      queued,
      coldStarts,
      runtimeDeaths,
      completed,
      failed,
      answeredLastMinute: completed + failed - (this.answeredSamples[0] ?? 0),
      durations: this.durations.snapshot(),
    };
  }
}
