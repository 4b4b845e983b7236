// The 2021 Azure Functions invocation trace: one row per invocation, `app,func,end_timestamp,duration`
// (seconds from the start of the trace). It has no memory column: memory comes from the caller.
import { csvRows, finish, numberCell, shortName, type Trace, type TraceFunction, type TraceInvocation } from './trace';

export interface Azure2021Row {
  app: string;
  func: string;
  /** Seconds from the start of the trace. */
  endTimestamp: number;
  /** Seconds. */
  duration: number;
}

export function parseAzure2021(text: string): Azure2021Row[] {
  return csvRows(text).map((row) => ({
    app: required(row, 'app'),
    func: required(row, 'func'),
    endTimestamp: numberCell(row, 'end_timestamp'),
    duration: numberCell(row, 'duration'),
  }));
}

/** Invocations start at end − duration; every function gets the memory `memoryMbOf` picks for it. */
export function azure2021Trace(rows: Azure2021Row[], memoryMbOf: (fnIndex: number) => number): Trace {
  const names = new Map<string, string>();
  const functions: TraceFunction[] = [];
  const invocations: TraceInvocation[] = [];
  for (const row of rows) {
    const key = `${row.app}/${row.func}`;
    let name = names.get(key);
    if (!name) {
      name = shortName(row.func, names.size);
      names.set(key, name);
      functions.push({ name, memoryMb: memoryMbOf(functions.length) });
    }
    invocations.push({
      fn: name,
      startMs: (row.endTimestamp - row.duration) * 1000,
      // A duration of 0 in the trace is below its millisecond resolution, not free.
      durationMs: Math.max(1, row.duration * 1000),
    });
  }
  return finish('azure2021', functions, invocations);
}

function required(row: Record<string, string>, column: string): string {
  const value = row[column];
  if (!value) throw new Error(`column ${column} is empty`);
  return value;
}
