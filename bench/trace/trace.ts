// A serverless trace as the replay and the tests see it, whichever schema it came from: functions
// with their memory, and invocations with a start time and a duration.

export interface TraceFunction {
  /** Stable name, short enough for a queue name (the trace's hashes are 64 hex characters). */
  name: string;
  /** Memory an invocation holds while it runs, in MB (the trace's allocated memory). */
  memoryMb: number;
}

export interface TraceInvocation {
  fn: string;
  /** Start, in ms from the start of the trace. */
  startMs: number;
  durationMs: number;
}

export interface Trace {
  source: string;
  functions: TraceFunction[];
  /** Sorted by start. */
  invocations: TraceInvocation[];
  /** From the first start to the last end, in ms. */
  spanMs: number;
}

/** Rows of a CSV file with a header line, as objects keyed by column name. */
export function csvRows(text: string): Array<Record<string, string>> {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((name) => name.trim());
  return lines.map((line, index) => {
    // The Azure traces hold hashes, names and numbers: no quoted commas to honour.
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new Error(`CSV line ${index + 2} has ${cells.length} cells where the header has ${header.length}`);
    }
    return Object.fromEntries(header.map((name, i) => [name, cells[i]!.trim()]));
  });
}

export function numberCell(row: Record<string, string>, column: string): number {
  const value = Number(row[column]);
  if (row[column] === undefined || row[column] === '' || !Number.isFinite(value)) {
    throw new Error(`column ${column} is not a number: ${JSON.stringify(row[column])}`);
  }
  return value;
}

/** A short name for a function hash: queue names, file names and tables stay readable. */
export function shortName(hash: string, index: number): string {
  return `f${String(index).padStart(3, '0')}-${hash.slice(0, 6)}`;
}

export function finish(source: string, functions: TraceFunction[], invocations: TraceInvocation[]): Trace {
  invocations.sort((a, b) => a.startMs - b.startMs);
  const first = invocations[0]?.startMs ?? 0;
  for (const invocation of invocations) invocation.startMs -= first;
  const spanMs = invocations.reduce((end, i) => Math.max(end, i.startMs + i.durationMs), 0);
  return { source, functions, invocations, spanMs };
}
