// The fleet in the Prometheus text format (prom-client): the API's /metrics renders the whole fleet
// read from Redis, a dispatcher's own /metrics renders its heartbeat; both use the same names, so
// this lives beside neither, in monitoring/, which imports only contract/.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FunctionStatus } from '../contract/fleet';
import { mergeDurations, type DispatcherStats, type DurationHistogram, type MemoryStats, type TimedPoolStats } from '../contract/heartbeat';

/** What a scrape shows of one function; queue counts only where Redis was read (the API). */
export type FunctionMetrics = Pick<
  FunctionStatus,
  | 'fn'
  | 'runtimes'
  | 'photonsInFlight'
  | 'heapPerRuntime'
  | 'heapPerPhoton'
  | 'runtimeBaseHeap'
  | 'coldStarts'
  | 'runtimeDeaths'
  | 'photonsCompleted'
  | 'photonsFailed'
  | 'durations'
> &
  Partial<Pick<FunctionStatus, 'waiting' | 'active' | 'delayed' | 'completed' | 'failed'>>;

/** What a scrape shows of one dispatcher: its memory budget and queue workers. */
export interface DispatcherMetrics {
  id: string;
  memory?: MemoryStats;
  fetching?: number;
}

export interface MetricsSnapshot {
  functions: FunctionMetrics[];
  dispatchers?: DispatcherMetrics[];
  /** Dispatchers with a fresh heartbeat; only the fleet view knows it. */
  liveDispatchers?: number;
}

export const METRICS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;

/**
 * Renders one scrape. A fresh registry per scrape: the values come whole from one reading of the
 * fleet, and two scrapes at once cannot mix their readings in shared metric objects.
 */
export async function renderMetrics(snapshot: MetricsSnapshot): Promise<string> {
  const registry = new Registry();
  const registers = [registry];
  const fns = snapshot.functions;
  const gauge = (name: string, help: string, value: (f: FunctionMetrics) => number): void => {
    const metric = new Gauge({ name, help, labelNames: ['fn'], registers });
    for (const f of fns) metric.set({ fn: f.fn }, value(f));
  };
  const counter = (name: string, help: string, value: (f: FunctionMetrics) => number): void => {
    const metric = new Counter({ name, help, labelNames: ['fn'], registers });
    for (const f of fns) metric.inc({ fn: f.fn }, value(f));
  };

  const jobs = new Counter({
    name: 'photons_jobs_total',
    help: 'Jobs answered by the runtimes of live dispatchers since they started, by outcome (status: completed or failed).',
    labelNames: ['fn', 'status'],
    registers,
  });
  for (const f of fns) {
    jobs.inc({ fn: f.fn, status: 'completed' }, f.photonsCompleted);
    jobs.inc({ fn: f.fn, status: 'failed' }, f.photonsFailed);
  }
  gauge('photons_runtimes', 'Runtimes (worker threads) of the function.', (f) => f.runtimes);
  gauge('photons_photons_in_flight', 'Jobs running as photons in the runtimes of the function.', (f) => f.photonsInFlight);
  counter('photons_cold_starts_total', 'Runtimes started for the function (each one a cold start).', (f) => f.coldStarts);
  counter('photons_runtime_deaths_total', 'Runtimes of the function that died (out of memory, crash, blocked event loop).', (f) => f.runtimeDeaths);
  gauge('photons_runtime_heap_bytes', 'Heap used by all runtimes of the function, in bytes.', (f) => f.heapPerRuntime.reduce((a, b) => a + b, 0));
  gauge(
    'photons_runtime_base_heap_bytes',
    'Heap of one runtime right after the function loaded, averaged, in bytes (0: not measured yet).',
    (f) => f.runtimeBaseHeap,
  );
  gauge(
    'photons_heap_per_photon_bytes',
    'Heap per photon in flight, measured and averaged over runtimes, in bytes (0: not measured yet).',
    (f) => f.heapPerPhoton,
  );

  const durations = new DurationMetric({
    name: 'photons_job_duration_seconds',
    help: 'Time from a job reaching a runtime pool to its answer (cold start and batching included), in seconds.',
    labelNames: ['fn'],
    registers,
  });
  // Fifteen bucket lines per function would make a fleet of a thousand mostly idle functions a
  // scrape of megabytes: a function with no runtime and no job in hand has answered nothing lately,
  // so its histogram is left out until its next job (rate() over it is 0 either way); its counters stay.
  for (const f of fns) if (f.durations && !quiet(f)) durations.histograms.set(f.fn, f.durations);

  const queued = fns.filter((f) => f.waiting !== undefined);
  if (queued.length > 0) {
    const queue = new Gauge({ name: 'photons_queue_jobs', help: "Jobs in the function's BullMQ queue, by state.", labelNames: ['fn', 'state'], registers });
    for (const f of queued) for (const state of QUEUE_STATES) queue.set({ fn: f.fn, state }, f[state] ?? 0);
  }
  if (snapshot.liveDispatchers !== undefined) {
    new Gauge({ name: 'photons_dispatchers', help: 'Dispatchers with a fresh heartbeat.', registers }).set(snapshot.liveDispatchers);
  }
  dispatcherMetrics(snapshot.dispatchers ?? [], registers);
  return registry.metrics();
}

/** Each dispatcher's memory budget, the heap its runtimes hold, how many functions wait for the budget, and its queue workers. */
function dispatcherMetrics(dispatchers: DispatcherMetrics[], registers: Registry[]): void {
  const withMemory = dispatchers.filter((d) => d.memory);
  if (withMemory.length === 0) return;
  const gauge = (name: string, help: string, value: (d: DispatcherMetrics) => number): void => {
    const metric = new Gauge({ name, help, labelNames: ['dispatcher'], registers });
    for (const d of withMemory) metric.set({ dispatcher: d.id }, value(d));
  };
  const MB = 2 ** 20;
  gauge('photons_memory_budget_bytes', "The dispatcher's memory budget (PHOTONS_MEMORY_BUDGET_MB), in bytes.", (d) => Math.round(d.memory!.budgetMb * MB));
  gauge('photons_memory_used_bytes', "Heap the dispatcher's runtimes hold, in bytes.", (d) => Math.round(d.memory!.usedMb * MB));
  gauge(
    'photons_memory_limited_functions',
    'Functions whose jobs wait in Redis because the memory budget is full (0: not limited).',
    (d) => d.memory!.limited.length,
  );
  gauge('photons_queue_workers', 'Functions whose BullMQ queue workers run on the dispatcher now (the others are watched).', (d) => d.fetching ?? 0);
}

/** One dispatcher's heartbeat as metrics: its own runtimes, no queue counts. */
export function dispatcherSnapshot(stats: DispatcherStats): MetricsSnapshot {
  return {
    dispatchers: [{ id: stats.id, memory: stats.memory, fetching: stats.fetching }],
    functions: (stats.functions as TimedPoolStats[]).map((pool) => {
      const measured = pool.runtimes.filter((r) => r.heapPerPhoton > 0);
      const loaded = pool.runtimes.filter((r) => r.baseHeap > 0);
      return {
        fn: pool.fn,
        runtimes: pool.runtimes.length,
        photonsInFlight: pool.photonsInFlight,
        heapPerRuntime: pool.runtimes.map((r) => r.heapUsed),
        heapPerPhoton: average(measured.map((r) => r.heapPerPhoton)),
        runtimeBaseHeap: average(loaded.map((r) => r.baseHeap)),
        coldStarts: pool.coldStarts,
        runtimeDeaths: pool.runtimeDeaths,
        photonsCompleted: pool.completed,
        photonsFailed: pool.failed,
        durations: mergeDurations([pool.durations]),
      };
    }),
  };
}

/** No runtime, nothing running or queued (ARCHITECTURE.md, "Monitoring at scale"). */
function quiet(f: FunctionMetrics): boolean {
  return f.runtimes === 0 && f.photonsInFlight === 0 && (f.waiting ?? 0) + (f.active ?? 0) + (f.delayed ?? 0) === 0;
}

function average(values: number[]): number {
  return values.length === 0 ? 0 : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

// prom-client renders a histogram from this method (and get() from it), left out of its typings.
declare module 'prom-client' {
  interface Histogram<T extends string> {
    getForPromString(): ReturnType<Histogram<T>['get']>;
  }
}

/**
 * A histogram whose buckets come counted from the dispatchers: prom-client's Histogram only counts
 * observations itself, so its values are replaced, with the bucket counts made cumulative here.
 */
class DurationMetric extends Histogram<'fn' | 'le'> {
  readonly histograms = new Map<string, DurationHistogram>();

  override async getForPromString(): ReturnType<Histogram<'fn' | 'le'>['get']> {
    const base = await super.getForPromString();
    const values = [...this.histograms].flatMap(([fn, h]) => {
      let cumulative = 0;
      const buckets = h.counts.map((n, i) => {
        cumulative += n;
        return { metricName: `${base.name}_bucket`, labels: { fn, le: i < h.bounds.length ? h.bounds[i]! : '+Inf' }, sharedLabels: {}, value: cumulative };
      });
      const totals = [
        { metricName: `${base.name}_sum`, labels: { fn }, sharedLabels: {}, value: h.sum },
        { metricName: `${base.name}_count`, labels: { fn }, sharedLabels: {}, value: h.count },
      ];
      return [...buckets, ...totals];
    });
    return { ...base, values };
  }
}
