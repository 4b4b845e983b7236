// The memory-aware keep-alive (ARCHITECTURE.md, "Scheduling"): every idle runtime costs an empty
// thread (a few MB of its own) plus its heap, about 8.5 MB for a small function. Kept for the whole
// keep-alive after one job each, a burst to 300 functions leaves 2.5 GB idle for ten minutes. So the
// idle runtimes of all the functions of a dispatcher share one memory budget: the most recently
// used stay warm within it, and those beyond it are retired once they have been idle a little while
// (IDLE_GRACE_MS), longest idle first. A function with steady traffic never idles that long; one
// that ran once gives its memory back within seconds instead of minutes.

/** A runtime as the budget sees it. */
export interface IdleRuntime {
  state: string;
  inFlight: number;
  /** When it last became idle (ms since the epoch). */
  idleSince: number;
  /** Heap in use, in bytes (0 when not measured yet). */
  heapUsed: number;
  retire(): Promise<void>;
}

/** What a runtime pool offers the budget: its runtimes that are ready and hold no job. */
export interface IdleSource {
  idleRuntimes(): IdleRuntime[];
}

/**
 * An empty worker thread's own memory beside its heap (its isolate's code space, Node's own
 * per-thread state): measured on Node 20 as RSS growth per idle runtime minus its heap.
 */
export const THREAD_OVERHEAD_BYTES = 5 * 2 ** 20;
/** Idle shorter than this, a runtime is between two jobs, not idle: the budget leaves it alone. */
export const IDLE_GRACE_MS = 10_000;
const CHECK_MS = 1_000;

/** What a runtime costs while it idles. */
export function idleCost(runtime: IdleRuntime): number {
  return runtime.heapUsed + THREAD_OVERHEAD_BYTES;
}

/**
 * The idle runtimes to retire: walking from the most recently used, the first ones that fit in
 * `budgetBytes` stay; of the rest, those idle for at least `graceMs`.
 */
export function overBudget<R extends IdleRuntime>(idle: readonly R[], budgetBytes: number, now: number, graceMs = IDLE_GRACE_MS): R[] {
  const newestFirst = [...idle].sort((a, b) => b.idleSince - a.idleSince);
  const retire: R[] = [];
  let kept = 0;
  for (const runtime of newestFirst) {
    const cost = idleCost(runtime);
    if (kept + cost <= budgetBytes) kept += cost;
    else if (now - runtime.idleSince >= graceMs) retire.push(runtime);
  }
  return retire;
}

export class IdleBudget {
  private readonly sources = new Set<IdleSource>();
  private readonly timer: NodeJS.Timeout;

  /** `budgetMb`: memory the idle runtimes of all functions may keep together (runtime.idleMemoryMb). */
  constructor(private readonly budgetMb: number) {
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  add(source: IdleSource): void {
    this.sources.add(source);
  }

  delete(source: IdleSource): void {
    this.sources.delete(source);
  }

  /** Retires the idle runtimes beyond the budget; returns how many. */
  check(now = Date.now()): number {
    const idle = [...this.sources].flatMap((source) => source.idleRuntimes());
    const retire = overBudget(idle, this.budgetMb * 2 ** 20, now);
    for (const runtime of retire) void runtime.retire();
    return retire.length;
  }

  close(): void {
    clearInterval(this.timer);
    this.sources.clear();
  }
}
