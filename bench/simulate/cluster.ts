// The paper's trace simulation (a cluster of hosts running many functions) with the dispatcher's
// own policy: placement, admission and keep-alive come from dispatcher/placement.ts, unchanged.
import { pickRuntime, room, runtimesToStart, shouldRetire, shouldSpread, type PlacementPolicy } from '../../dispatcher/placement';
import { EventQueue } from './events';
import {
  SimRuntime,
  type ClusterOptions,
  type ClusterResult,
  type Host,
  type InvocationRecords,
  type Invocation,
  type LatencyClass,
  type Workload,
} from './model';

export type { ClusterOptions, ClusterResult, InvocationRecords, SimFunction, SimMode, Workload } from './model';

type SimEvent =
  | { at: number; kind: 'arrival'; fn: number }
  | { at: number; kind: 'ready'; runtime: SimRuntime }
  | { at: number; kind: 'done'; runtime: SimRuntime; invocation: Invocation }
  | { at: number; kind: 'retire'; runtime: SimRuntime };

/** shouldRetire is strict (idle longer than keep-alive): the check runs just past the deadline. */
const JUST_PAST_MS = 1e-3;

export function simulateCluster(workload: Workload, options: ClusterOptions): ClusterResult {
  return new ClusterSimulation(workload, options).run();
}

class ClusterSimulation {
  private readonly events = new EventQueue<SimEvent>();
  private readonly hosts: Host[];
  private readonly pools: Array<{ policy: PlacementPolicy; runtimes: SimRuntime[]; queue: Invocation[]; inFlight: number }>;
  private now = 0;
  private memoryMb = 0;
  private peakMemoryMb = 0;
  private memoryMbMs = 0;
  private memoryAt = 0;
  private runtimesAlive = 0;
  private readonly counts = { invocations: 0, coldStarts: 0, evictions: 0, overcommits: 0, peakRuntimes: 0 };
  private readonly latency = { under10ms: newClass(), under100ms: newClass(), all: newClass() };
  private records: InvocationRecords = { latencyMs: new Float64Array(1024), durationMs: new Float64Array(1024), waited: new Uint8Array(1024) };

  constructor(
    private readonly workload: Workload,
    private readonly options: ClusterOptions,
  ) {
    this.hosts = Array.from({ length: options.hosts }, () => ({ capacityMb: options.hostMemoryMb, usedMb: 0, idle: new Set<SimRuntime>() }));
    this.pools = workload.functions.map((spec) => ({
      policy: {
        slots: options.mode === 'lambda' ? 1 : spec.photonsPerRuntime,
        maxRuntimes: options.maxRuntimesPerFunction,
        eluHigh: options.eluHigh,
        heapHeadroom: options.heapHeadroom,
        keepAliveMs: options.keepAliveMs,
      },
      runtimes: [],
      queue: [],
      inFlight: 0,
    }));
  }

  run(): ClusterResult {
    this.workload.functions.forEach((_, fn) => this.scheduleArrival(fn, 0));
    for (let event = this.events.pop(); event; event = this.events.pop()) {
      this.advance(event.at);
      if (event.kind === 'arrival') this.onArrival(event.fn);
      else if (event.kind === 'ready') this.onReady(event.runtime);
      else if (event.kind === 'done') this.onDone(event.runtime, event.invocation);
      else this.onRetireCheck(event.runtime);
    }
    this.advance(this.options.horizonMs);
    const capacityMb = this.options.hosts * this.options.hostMemoryMb;
    const meanMb = this.memoryMbMs / this.options.horizonMs;
    return {
      mode: this.options.mode,
      ...this.counts,
      memoryGbSeconds: this.memoryMbMs / 1024 / 1000,
      meanMemoryGb: meanMb / 1024,
      peakMemoryGb: this.peakMemoryMb / 1024,
      utilisation: meanMb / capacityMb,
      latency: {
        under10ms: summary(this.latency.under10ms),
        under100ms: summary(this.latency.under100ms),
        all: summary(this.latency.all),
      },
      perInvocation: {
        latencyMs: this.records.latencyMs.subarray(0, this.counts.invocations),
        durationMs: this.records.durationMs.subarray(0, this.counts.invocations),
        waited: this.records.waited.subarray(0, this.counts.invocations),
      },
    };
  }

  private scheduleArrival(fn: number, after: number): void {
    const at = this.workload.nextArrival(fn, after);
    if (at < this.options.horizonMs) this.events.push({ at, kind: 'arrival', fn });
  }

  private onArrival(fn: number): void {
    const ordinal = this.counts.invocations++;
    this.pools[fn]!.queue.push({ ordinal, arrivedAt: this.now, durationMs: this.workload.durationMs(fn), waited: false });
    this.scheduleArrival(fn, this.now);
    this.place(fn);
  }

  /** What the runtime pool's flush does: fill runtimes with room, then start what is missing. */
  private place(fn: number): void {
    const pool = this.pools[fn]!;
    // Shortcut, not policy: with no more jobs than runtimes, shouldSpread answers no anyway.
    if (pool.queue.length === 0 && pool.inFlight <= pool.runtimes.length) return;
    let head = 0;
    while (head < pool.queue.length) {
      const runtime = pickRuntime(pool.runtimes, pool.policy);
      if (!runtime) break;
      const take = Math.min(room(runtime, pool.policy), pool.queue.length - head);
      for (let k = 0; k < take; k++) this.begin(runtime, pool.queue[head++]!);
    }
    if (head > 0) pool.queue.splice(0, head);
    for (const invocation of pool.queue) invocation.waited = true;
    const toStart = pool.queue.length > 0 ? runtimesToStart(pool.runtimes, pool.queue.length, pool.policy) : 0;
    for (let k = 0; k < toStart; k++) this.startRuntime(fn);
    // The pool's tick: saturated event loops with more jobs than runtimes get company.
    if (toStart === 0 && shouldSpread(pool.runtimes, pool.queue.length, pool.policy)) this.startRuntime(fn);
  }

  private begin(runtime: SimRuntime, invocation: Invocation): void {
    const spec = this.workload.functions[runtime.fn]!;
    if (runtime.inFlight === 0) runtime.host.idle.delete(runtime);
    runtime.inFlight++;
    this.pools[runtime.fn]!.inFlight++;
    runtime.cpuDemand += spec.cpu;
    this.changeMemory(runtime.host, spec.memoryMb - spec.shareableMb);
    // One event loop: photons that together want more than a core run that much slower. Charged
    // when the invocation starts (an approximation of processor sharing that never speeds one up).
    const executionMs = invocation.durationMs * Math.max(1, runtime.cpuDemand);
    this.events.push({ at: this.now + executionMs, kind: 'done', runtime, invocation });
  }

  private onDone(runtime: SimRuntime, invocation: Invocation): void {
    const spec = this.workload.functions[runtime.fn]!;
    runtime.inFlight--;
    this.pools[runtime.fn]!.inFlight--;
    runtime.cpuDemand = runtime.inFlight === 0 ? 0 : runtime.cpuDemand - spec.cpu;
    this.changeMemory(runtime.host, -(spec.memoryMb - spec.shareableMb));
    const latencyMs = this.now - invocation.arrivedAt;
    record(this.latency.all, latencyMs, invocation.durationMs);
    if (invocation.durationMs < 100) record(this.latency.under100ms, latencyMs, invocation.durationMs);
    if (invocation.durationMs < 10) record(this.latency.under10ms, latencyMs, invocation.durationMs);
    this.keep(invocation, latencyMs);
    if (runtime.inFlight === 0) this.becomeIdle(runtime);
    this.place(runtime.fn);
  }

  private keep(invocation: Invocation, latencyMs: number): void {
    const i = invocation.ordinal;
    if (i >= this.records.latencyMs.length) {
      const size = this.records.latencyMs.length * 2;
      const grow = <T extends Float64Array | Uint8Array>(old: T, fresh: T): T => (fresh.set(old), fresh);
      this.records = {
        latencyMs: grow(this.records.latencyMs, new Float64Array(size)),
        durationMs: grow(this.records.durationMs, new Float64Array(size)),
        waited: grow(this.records.waited, new Uint8Array(size)),
      };
    }
    this.records.latencyMs[i] = latencyMs;
    this.records.durationMs[i] = invocation.durationMs;
    this.records.waited[i] = invocation.waited ? 1 : 0;
  }

  private onReady(runtime: SimRuntime): void {
    if (runtime.state !== 'starting') return;
    runtime.state = 'ready';
    this.becomeIdle(runtime);
    this.place(runtime.fn);
  }

  private becomeIdle(runtime: SimRuntime): void {
    runtime.idleSince = this.now;
    runtime.host.idle.add(runtime);
    // One pending check per runtime: a check that finds it busy or idle again for less than the
    // keep-alive schedules the next one, so the event queue does not fill with stale checks.
    if (!runtime.retirePending) this.scheduleRetireCheck(runtime);
  }

  private scheduleRetireCheck(runtime: SimRuntime): void {
    runtime.retirePending = true;
    this.events.push({ at: runtime.idleSince + this.options.keepAliveMs + JUST_PAST_MS, kind: 'retire', runtime });
  }

  private onRetireCheck(runtime: SimRuntime): void {
    runtime.retirePending = false;
    if (shouldRetire(runtime, this.now, this.pools[runtime.fn]!.policy)) this.retire(runtime);
    else if (runtime.state === 'ready' && runtime.inFlight === 0) this.scheduleRetireCheck(runtime);
  }

  private startRuntime(fn: number): void {
    const spec = this.workload.functions[fn]!;
    const host = this.hostFor(spec.memoryMb);
    const runtime = new SimRuntime(fn, host, spec, this.pools[fn]!.policy.slots, this.options.heapHeadroom);
    this.pools[fn]!.runtimes.push(runtime);
    this.counts.coldStarts++;
    this.runtimesAlive++;
    this.counts.peakRuntimes = Math.max(this.counts.peakRuntimes, this.runtimesAlive);
    // A starting runtime already holds what it loads: the runtime, the libraries, the model.
    this.changeMemory(host, spec.shareableMb);
    this.events.push({ at: this.now + this.options.coldStartMs(), kind: 'ready', runtime });
  }

  private retire(runtime: SimRuntime): void {
    runtime.state = 'dead';
    runtime.host.idle.delete(runtime);
    const runtimes = this.pools[runtime.fn]!.runtimes;
    runtimes.splice(runtimes.indexOf(runtime), 1);
    this.runtimesAlive--;
    this.changeMemory(runtime.host, -this.workload.functions[runtime.fn]!.shareableMb);
  }

  /** The host with the most free memory; idle runtimes there make way when it is short. */
  private hostFor(needMb: number): Host {
    let best = this.hosts[0]!;
    for (const host of this.hosts) if (host.usedMb < best.usedMb) best = host;
    const short = (): boolean => this.options.hostMemoryMb - best.usedMb < needMb;
    const oldestFirst = short() ? [...best.idle].sort((a, b) => a.idleSince - b.idleSince) : [];
    while (short() && oldestFirst.length > 0) {
      this.retire(oldestFirst.shift()!);
      this.counts.evictions++;
    }
    if (short()) this.counts.overcommits++;
    return best;
  }

  private changeMemory(host: Host, deltaMb: number): void {
    host.usedMb += deltaMb;
    this.memoryMb += deltaMb;
    if (this.now <= this.options.horizonMs) this.peakMemoryMb = Math.max(this.peakMemoryMb, this.memoryMb);
  }

  /** Moves the clock, adding memory × time up to the horizon. */
  private advance(at: number): void {
    const until = Math.min(at, this.options.horizonMs);
    if (until > this.memoryAt) {
      this.memoryMbMs += this.memoryMb * (until - this.memoryAt);
      this.memoryAt = until;
    }
    this.now = at;
  }
}

function newClass(): { count: number; latencyMs: number; executionMs: number } {
  return { count: 0, latencyMs: 0, executionMs: 0 };
}

function record(into: { count: number; latencyMs: number; executionMs: number }, latencyMs: number, executionMs: number): void {
  into.count++;
  into.latencyMs += latencyMs;
  into.executionMs += executionMs;
}

function summary(sums: { count: number; latencyMs: number; executionMs: number }): LatencyClass {
  return {
    count: sums.count,
    meanLatencyMs: sums.count ? sums.latencyMs / sums.count : NaN,
    meanExecutionMs: sums.count ? sums.executionMs / sums.count : NaN,
  };
}
