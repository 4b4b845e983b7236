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
 * spare runtimes idle out and retire; but spread CPU-bound work (emptiest first).
 */
export function pickRuntime<R extends RuntimeView>(runtimes: Iterable<R>, policy: PlacementPolicy): R | undefined {
  const list = [...runtimes];
  const cpuBound = isCpuBound(list, policy);
  let best: R | undefined;
  for (const runtime of list) {
    if (runtime.state !== 'ready' || room(runtime, policy) <= 0) continue;
    if (!best || (cpuBound ? runtime.inFlight < best.inFlight : runtime.inFlight > best.inFlight)) best = runtime;
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
