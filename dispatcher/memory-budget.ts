// A dispatcher's memory budget (ARCHITECTURE.md, "Scheduling / fetching"): the outer bound on the
// heap its runtimes hold, shared equally among the functions fetching now. A function at its share
// fetches no more jobs: they wait in Redis, and the heartbeat says the dispatcher is `limited`.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { MemoryStats } from '../contract/heartbeat';

/** The default budget is this share of the memory the process may use. */
const DEFAULT_SHARE = 0.5;
const MB = 1024 * 1024;
/**
 * A photon's heap until a runtime has measured it: generous (photons of I/O-bound functions
 * measure a few KB), so that a small budget binds from the first fetch.
 */
const UNMEASURED_PHOTON_BYTES = 256 * 1024;

/** The memory this process may use: the cgroup's limit (v2, then v1) when there is one, else the machine's. */
export function memoryLimitBytes(): number {
  const machine = totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim());
      // "max" (v2) or a huge number (v1) means no limit.
      if (Number.isFinite(limit) && limit > 0 && limit < machine) return limit;
    } catch {
      // Not in a cgroup of that version.
    }
  }
  return machine;
}

/** The budget in bytes: the configured MB, or by default half the memory the process may use. */
export function budgetBytes(configuredMb: number): number {
  return configuredMb > 0 ? configuredMb * MB : Math.floor(DEFAULT_SHARE * memoryLimitBytes());
}

/** What the budget needs to know of one function's pool. */
export interface FunctionMemory {
  /** Heap its runtimes hold now (estimated where readings lag). */
  usedBytes: number;
  /** Measured heap per photon; 0 until measured. */
  perPhotonBytes: number;
  /** Jobs running or queued in its pool. */
  load: number;
}

/**
 * The functions fetching now, among which the budget is shared. Asked on every fetch: a function's
 * room must not cost a look at every other function (hundreds fetch at once in a busy fleet).
 */
export interface FetchingFunctions {
  count(): number;
  /** A fetching function's memory; undefined when it is not fetching. */
  memoryOf(fn: string): FunctionMemory | undefined;
  /** Every fetching function's memory. */
  all(): Iterable<FunctionMemory>;
}

export class MemoryBudget {
  private readonly limited = new Set<string>();

  constructor(
    readonly budgetBytes: number,
    private readonly fetching: FetchingFunctions,
  ) {}

  /**
   * How many more jobs a function may take within its share. A function holding nothing may
   * always take one job, so that every function makes progress even past the budget.
   */
  room(fn: string, wanted: number, pending: number): number {
    const mine = this.fetching.memoryOf(fn);
    if (!mine) return this.note(fn, Infinity, wanted);
    const share = this.budgetBytes / Math.max(1, this.fetching.count());
    const perPhoton = mine.perPhotonBytes || UNMEASURED_PHOTON_BYTES;
    // Unmeasured, the runtimes' heap says nothing of the photons: count each job at the assumed size.
    const used = (mine.perPhotonBytes > 0 ? mine.usedBytes : mine.usedBytes + mine.load * perPhoton) + pending * perPhoton;
    const byBudget = Math.floor((share - used) / perPhoton);
    return this.note(fn, mine.load + pending === 0 ? Math.max(1, byBudget) : byBudget, wanted);
  }

  stats(): MemoryStats {
    let used = 0;
    for (const m of this.fetching.all()) used += m.usedBytes;
    return { budgetMb: round(this.budgetBytes / MB), usedMb: round(used / MB), limited: [...this.limited].sort() };
  }

  /** Remembers whether the budget, not the pool, is what stops the function fetching. */
  private note(fn: string, byBudget: number, wanted: number): number {
    if (wanted > 0 && byBudget < wanted) this.limited.add(fn);
    else this.limited.delete(fn);
    return byBudget;
  }

  /** A function that stopped fetching is no longer limited. */
  forget(fn: string): void {
    this.limited.delete(fn);
  }
}

function round(mb: number): number {
  return Math.round(mb * 10) / 10;
}
