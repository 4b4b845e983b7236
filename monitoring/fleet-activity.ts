// Reading a fleet of thousands of functions (ARCHITECTURE.md, "Monitoring at scale"): most of them
// are idle at any moment. `photons status` and the dashboard list the busy ones first and fold the
// idle ones into a count, unless asked for all; both use these rules, so they agree.
import type { FunctionStatus } from '../contract/fleet';

/** Fewer idle functions than this are listed anyway: folding two lines helps nobody. */
export const FOLD_IDLE_FROM = 10;

/**
 * Nothing to see: no job waiting, running or delayed, no runtime, no job answered in the last
 * minute, and it loads (a broken function is always shown).
 */
export function isIdle(f: FunctionStatus): boolean {
  return !f.error && f.waiting + f.active + f.delayed === 0 && f.runtimes === 0 && f.photonsInFlight === 0 && f.jobsPerSec === 0;
}

/** Busiest first: broken ones, then by jobs in hand (queued, running), then throughput, then runtimes, then by name. */
export function byActivity(a: FunctionStatus, b: FunctionStatus): number {
  return (
    Number(Boolean(b.error)) - Number(Boolean(a.error)) ||
    b.waiting + b.active + b.photonsInFlight - (a.waiting + a.active + a.photonsInFlight) ||
    b.jobsPerSec - a.jobsPerSec ||
    b.runtimes - a.runtimes ||
    b.delayed - a.delayed ||
    a.fn.localeCompare(b.fn)
  );
}

export interface FoldedFunctions {
  /** The functions to list, busiest first. */
  shown: FunctionStatus[];
  /** The names of the idle functions folded away, by name (empty when all are shown). */
  folded: string[];
}

/** Sorts by activity and folds the idle functions, unless `all` or there are only a few of them. */
export function foldIdle(functions: readonly FunctionStatus[], all: boolean): FoldedFunctions {
  const sorted = [...functions].sort(byActivity);
  const idle = sorted.filter(isIdle);
  if (all || idle.length < FOLD_IDLE_FROM) return { shown: sorted, folded: [] };
  return { shown: sorted.filter((f) => !isIdle(f)), folded: idle.map((f) => f.fn).sort() };
}
