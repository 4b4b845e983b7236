// Shared by the benchmark suites: medians, tables, and the JSON line `--json` ends with.
import { hostname, cpus, totalmem } from 'node:os';

export { table } from '../cli/table';

export interface SuiteOptions {
  json: boolean;
  quick: boolean;
}

export interface SuiteReport {
  /** Human-readable lines, printed first. */
  lines: string[];
  /** The result object; `--json` prints it as the last line. */
  result: Record<string, unknown>;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Where a result was measured: figures mean little without it. */
export function machine(): Record<string, unknown> {
  return {
    host: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function rssBytes(pid: number | 'self' = 'self'): number {
  // /proc is exact and cheap; process.memoryUsage() only knows our own process.
  const status = (require('node:fs') as typeof import('node:fs')).readFileSync(`/proc/${pid}/status`, 'utf8') as string;
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}
