// The scheduling policy of ARCHITECTURE.md ("Scheduling") as pure functions over what a runtime reports: the runtime
// pool applies them to real threads, and the cluster simulation (bench/) to simulated ones.

/** What the policy needs to know of a runtime. */
export interface RuntimeView {
  state: 'starting' | 'ready' | 'closing' | 'dead';
  /** Jobs running in it now. */
  inFlight: number;
  /** Heap in use and the heap limit, in bytes (0 when not measured yet). */
  heapUsed: number;
  heapLimit: number;
  /** Measured heap per photon in flight, in bytes (0 when not measured yet). */
  heapPerPhoton: number;
  /** Event-loop utilisation, 0..1. */
  elu: number;
  /** When it last became idle (ms since the epoch). */
  idleSince: number;
}

export interface PlacementPolicy {
  /** Photon slots per runtime (1 in lambda mode). */
  slots: number;
  /** Most runtimes of the function. */
  maxRuntimes: number;
  /** Event-loop utilisation above which a runtime counts as saturated. */
  eluHigh: number;
  /** A runtime takes new photons while its heap stays under this share of its limit. */
  heapHeadroom: number;
  keepAliveMs: number;
}

/** Free photon slots, limited by heap headroom as measured (the paper's increment per photon). */
export function room(runtime: RuntimeView, policy: PlacementPolicy): number {
  const free = policy.slots - runtime.inFlight;
  if (free <= 0 || runtime.heapPerPhoton <= 0 || runtime.heapLimit <= 0) return Math.max(0, free);
  const byHeap = Math.floor((policy.heapHeadroom * runtime.heapLimit - runtime.heapUsed) / runtime.heapPerPhoton);
  // An idle runtime always takes one job: its heap is as small as it gets.
  return Math.max(runtime.inFlight === 0 ? 1 : 0, Math.min(free, byHeap));
}

/** Every ready runtime's event loop is saturated: photons alone cannot use more CPU. */
export function isCpuBound(runtimes: Iterable<RuntimeView>, policy: PlacementPolicy): boolean {
  let ready = 0;
  for (const runtime of runtimes) {
    if (runtime.state !== 'ready') continue;
    ready++;
    if (runtime.elu < policy.eluHigh) return false;
  }
  return ready > 0;
}

/**
 * The runtime that takes the next jobs, or undefined when none has room. Pack (fullest first) so
 * spare runtimes idle out and retire; but spread (emptiest first) CPU-bound work, and a burst
 * (`burst`: more jobs wait than one batch holds). Packed, a burst of a chunked map's items all
 * went to one runtime (its slots had grown while it was idle) and ran on one core while the
 * runtime started for that same burst idled; spread, the runtimes that exist anyway share it.
 */
export function pickRuntime<R extends RuntimeView>(runtimes: Iterable<R>, policy: PlacementPolicy, burst = false): R | undefined {
  const list = [...runtimes];
  const spread = burst || isCpuBound(list, policy);
  let best: R | undefined;
  for (const runtime of list) {
    if (runtime.state !== 'ready' || room(runtime, policy) <= 0) continue;
    if (!best || (spread ? runtime.inFlight < best.inFlight : runtime.inFlight > best.inFlight)) best = runtime;
  }
  return best;
}

/** How many new runtimes to start so that those starting can take `waiting` jobs. */
export function runtimesToStart(runtimes: Iterable<RuntimeView>, waiting: number, policy: PlacementPolicy): number {
  let starting = 0;
  let total = 0;
  for (const runtime of runtimes) {
    total++;
    if (runtime.state === 'starting') starting++;
  }
  let start = 0;
  while ((starting + start) * policy.slots < waiting && total + start < policy.maxRuntimes) start++;
  return start;
}

/**
 * Saturated event loops with more jobs than runtimes: another runtime of the same function gets a
 * core of its own (a runtime is one event loop, so photons alone cannot use a second core).
 */
export function shouldSpread(runtimes: Iterable<RuntimeView>, queued: number, policy: PlacementPolicy): boolean {
  const list = [...runtimes];
  if (list.length >= policy.maxRuntimes || list.some((r) => r.state === 'starting')) return false;
  const jobs = queued + list.reduce((sum, r) => sum + r.inFlight, 0);
  return jobs > list.length && isCpuBound(list, policy);
}

/** An idle runtime past keep-alive is retired: its heap is the price of keeping it. */
export function shouldRetire(runtime: RuntimeView, now: number, policy: PlacementPolicy): boolean {
  return runtime.state === 'ready' && runtime.inFlight === 0 && now - runtime.idleSince > policy.keepAliveMs;
}

/**
 * Photon slots that follow memory (ARCHITECTURE.md, "Scheduling / fetching"): while a runtime is at
 * least GROW_WHEN_FULL full, with its event loop below eluHigh and heap to spare, its function's
 * slots grow SLOT_GROWTH times a tick (every 250 ms: 64 to 16,384 in a second), up to MAX_SLOTS.
 */
export const FIRST_SLOTS = 64;
const MAX_SLOTS = 100_000;
const SLOT_GROWTH = 4;
const GROW_WHEN_FULL = 0.75;

/** The slots for the next tick: grown when some runtime is nearly full and has CPU and heap to spare. */
export function grownSlots(runtimes: Iterable<RuntimeView>, policy: PlacementPolicy): number {
  for (const runtime of runtimes) {
    if (runtime.state !== 'ready' || runtime.inFlight < GROW_WHEN_FULL * policy.slots || runtime.elu >= policy.eluHigh) continue;
    const heapFree = policy.heapHeadroom * runtime.heapLimit - runtime.heapUsed;
    if (runtime.heapPerPhoton > 0 && heapFree < runtime.heapPerPhoton) continue;
    return Math.min(MAX_SLOTS, policy.slots * SLOT_GROWTH);
  }
  return policy.slots;
}

/** Jobs the runtimes can hold now: ready ones up to their room, starting ones a full set of slots, none at all one runtime's worth. */
export function capacity(runtimes: Iterable<RuntimeView>, policy: PlacementPolicy): number {
  let total = 0;
  let live = 0;
  for (const runtime of runtimes) {
    if (runtime.state === 'ready') total += runtime.inFlight + room(runtime, policy);
    else if (runtime.state === 'starting') total += policy.slots;
    else continue;
    live++;
  }
  return live === 0 ? policy.slots : total;
}
