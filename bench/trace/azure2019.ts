// The 2019 Azure Functions trace: per-minute invocation counts of each function over a day, its
// duration percentiles, and its app's allocated-memory percentiles (three CSV files per day).
import type { Random } from './random';
import { csvRows, finish, numberCell, shortName, type Trace, type TraceFunction, type TraceInvocation } from './trace';

export interface Azure2019Invocations {
  owner: string;
  app: string;
  func: string;
  trigger: string;
  /** Invocations in each minute of the day, minute 1 first. */
  perMinute: number[];
}

/** A percentile curve: `at` is the fraction (0..1) of samples at or below `value`. */
export type Percentiles = Array<{ at: number; value: number }>;

export interface Azure2019Durations {
  owner: string;
  app: string;
  func: string;
  averageMs: number;
  count: number;
  percentilesMs: Percentiles;
}

export interface Azure2019Memory {
  owner: string;
  app: string;
  averageMb: number;
  percentilesMb: Percentiles;
}

export function parseAzure2019Invocations(text: string): Azure2019Invocations[] {
  return csvRows(text).map((row) => {
    const minutes = Object.keys(row)
      .filter((column) => /^\d+$/.test(column))
      .sort((a, b) => Number(a) - Number(b));
    return {
      owner: row.HashOwner!,
      app: row.HashApp!,
      func: row.HashFunction!,
      trigger: row.Trigger!,
      perMinute: minutes.map((minute) => numberCell(row, minute)),
    };
  });
}

export function parseAzure2019Durations(text: string): Azure2019Durations[] {
  return csvRows(text).map((row) => ({
    owner: row.HashOwner!,
    app: row.HashApp!,
    func: row.HashFunction!,
    averageMs: numberCell(row, 'Average'),
    count: numberCell(row, 'Count'),
    percentilesMs: percentileColumns(row, /^percentile_Average_(\d+)$/),
  }));
}

/** Memory is per app in the trace (the fixture also names a function, which is ignored). */
export function parseAzure2019Memory(text: string): Azure2019Memory[] {
  return csvRows(text).map((row) => ({
    owner: row.HashOwner!,
    app: row.HashApp!,
    averageMb: numberCell(row, 'AverageAllocatedMb'),
    percentilesMb: percentileColumns(row, /^AverageAllocatedMb_pct(\d+)$/),
  }));
}

function percentileColumns(row: Record<string, string>, pattern: RegExp): Percentiles {
  return Object.keys(row)
    .flatMap((column) => {
      const match = pattern.exec(column);
      return match ? [{ at: Number(match[1]) / 100, value: numberCell(row, column) }] : [];
    })
    .sort((a, b) => a.at - b.at);
}

/** A draw from a percentile curve, linear between the published percentiles. */
export function fromPercentiles(curve: Percentiles, u: number): number {
  if (curve.length === 0) throw new Error('empty percentile curve');
  if (u <= curve[0]!.at) return curve[0]!.value;
  for (let i = 1; i < curve.length; i++) {
    const lo = curve[i - 1]!;
    const hi = curve[i]!;
    if (u <= hi.at) return lo.value + ((hi.value - lo.value) * (u - lo.at)) / (hi.at - lo.at || 1);
  }
  return curve[curve.length - 1]!.value;
}

export interface Azure2019Window {
  /** First minute of the day to replay (1-based, as the columns). */
  fromMinute: number;
  minutes: number;
  random: Random;
}

/**
 * Invocations of the functions that have both counts and durations. The trace only says how many
 * invocations fell in each minute, so each starts at a uniformly random moment of its minute.
 */
export function azure2019Trace(
  invocations: Azure2019Invocations[],
  durations: Azure2019Durations[],
  memory: Azure2019Memory[],
  window: Azure2019Window,
): Trace {
  const durationOf = new Map(durations.map((d) => [`${d.app}/${d.func}`, d]));
  const memoryOf = new Map(memory.map((m) => [m.app, m]));
  const functions: TraceFunction[] = [];
  const out: TraceInvocation[] = [];
  for (const row of invocations) {
    const duration = durationOf.get(`${row.app}/${row.func}`);
    if (!duration) continue;
    const name = shortName(row.func, functions.length);
    // Allocated memory is an app's average over its samples; its functions share the app.
    functions.push({ name, memoryMb: memoryOf.get(row.app)?.averageMb ?? 128 });
    const last = Math.min(row.perMinute.length, window.fromMinute - 1 + window.minutes);
    for (let minute = window.fromMinute - 1; minute < last; minute++) {
      const count = row.perMinute[minute]!;
      for (let k = 0; k < count; k++) {
        out.push({
          fn: name,
          startMs: (minute - (window.fromMinute - 1) + window.random()) * 60_000,
          durationMs: Math.max(1, fromPercentiles(duration.percentilesMs, window.random())),
        });
      }
    }
  }
  return finish('azure2019', functions, out);
}
