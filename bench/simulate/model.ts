// What the cluster simulation models: functions, the workload, the cluster's settings and results,
// and a simulated runtime as the dispatcher's placement policy sees it (a RuntimeView).
import type { RuntimeView } from '../../dispatcher/placement';

export type SimMode = 'photon' | 'lambda';

export interface SimFunction {
  memoryMb: number;
  /** Of memoryMb, what the invocations in one runtime share. */
  shareableMb: number;
  /** Share of a core one invocation keeps busy. */
  cpu: number;
  /** Photon slots per runtime (the function's own photonsPerRuntime); lambda mode uses 1. */
  photonsPerRuntime: number;
}

export interface Workload {
  functions: SimFunction[];
  /** Function `fn`'s next arrival after `now` (ms), or Infinity. Called once per arrival, in order. */
  nextArrival(fn: number, now: number): number;
  durationMs(fn: number): number;
}

export interface ClusterOptions {
  mode: SimMode;
  hosts: number;
  hostMemoryMb: number;
  /** Arrivals stop here, and memory is integrated up to here. */
  horizonMs: number;
  keepAliveMs: number;
  coldStartMs: () => number;
  maxRuntimesPerFunction: number;
  eluHigh: number;
  heapHeadroom: number;
}

export interface LatencyClass {
  count: number;
  meanLatencyMs: number;
  meanExecutionMs: number;
}

export interface ClusterResult {
  mode: SimMode;
  invocations: number;
  coldStarts: number;
  /** Idle runtimes retired early because a host ran out of memory for a new one. */
  evictions: number;
  /** New runtimes placed on a host without room even after evictions. */
  overcommits: number;
  memoryGbSeconds: number;
  meanMemoryGb: number;
  peakMemoryGb: number;
  /** Mean memory in use over the cluster's memory. */
  utilisation: number;
  peakRuntimes: number;
  /** Enqueue to completion, by the invocation's own duration: under 10 ms, under 100 ms, all. */
  latency: { under10ms: LatencyClass; under100ms: LatencyClass; all: LatencyClass };
  /** By arrival order (the same invocations in every mode): to compare one invocation across modes. */
  perInvocation: InvocationRecords;
}

/** Arrival order is the same in both modes, so index i is the same invocation in each run. */
export interface InvocationRecords {
  latencyMs: Float64Array;
  durationMs: Float64Array;
  /** 1 when it waited for a runtime to start (a cold start, or a full cluster). */
  waited: Uint8Array;
}

export interface Host {
  capacityMb: number;
  usedMb: number;
  idle: Set<SimRuntime>;
}

export interface Invocation {
  ordinal: number;
  arrivedAt: number;
  durationMs: number;
  waited: boolean;
}

const MB = 1024 * 1024;

/**
 * A runtime as the policy sees it (RuntimeView), plus where it lives and what it holds. Heap and
 * event-loop readings are computed when read, from the memory it holds and its host's free memory.
 */
export class SimRuntime implements RuntimeView {
  state: RuntimeView['state'] = 'starting';
  inFlight = 0;
  idleSince = 0;
  cpuDemand = 0;
  retirePending = false;
  constructor(
    readonly fn: number,
    readonly host: Host,
    private readonly spec: SimFunction,
    private readonly slots: number,
    private readonly headroom: number,
  ) {}

  get heapUsed(): number {
    return (this.spec.shareableMb + this.inFlight * this.privateMb) * MB;
  }

  get heapPerPhoton(): number {
    return this.privateMb * MB;
  }

  /** Its size for `slots` photons, or less when the host has not that much left. */
  get heapLimit(): number {
    const heldMb = this.spec.shareableMb + this.inFlight * this.privateMb;
    const freeMb = Math.max(0, this.host.capacityMb - this.host.usedMb);
    return (Math.min(this.spec.shareableMb + this.slots * this.privateMb, heldMb + freeMb) * MB) / this.headroom;
  }

  get elu(): number {
    return Math.min(1, this.cpuDemand);
  }

  private get privateMb(): number {
    return this.spec.memoryMb - this.spec.shareableMb;
  }
}
