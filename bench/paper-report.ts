// The paper suite's printed report and JSON result, built from its measured cells: tables per
// workload, the targets judged against lambda, and the cells left out and why.
import type { CellMode, CellResult } from './paper-cell';
import { describeVerdict, evaluate } from './paper-targets';
import type { PaperWorkload } from './paper-workloads';
import { machine, table, type SuiteReport } from './report';

export interface SkippedCell {
  workload: string;
  mode: CellMode;
  concurrency: number;
  reason: string;
}

export interface PaperRun {
  cells: CellResult[];
  skipped: SkippedCell[];
  workloads: Array<Pick<PaperWorkload, 'name' | 'paperReduction'>>;
  concurrencies: number[];
  seconds: number;
  quick: boolean;
}

const MB = 1024 * 1024;

export function paperReport(run: PaperRun): SuiteReport {
  const { cells, skipped } = run;
  const evaluation = evaluate(cells, run.workloads);
  const result = {
    suite: 'paper',
    quick: run.quick,
    memoryReductionAt64: evaluation.memoryReductionAt64,
    throughputRatio: evaluation.throughputRatio,
    throughputRatioByConcurrency: evaluation.throughputRatioByConcurrency,
    p99Ratio: evaluation.p99Ratio,
    verdicts: evaluation.verdicts,
    cells,
    skipped,
    concurrencies: run.concurrencies,
    /** memoryReductionAt64 is taken here: 64 in a full run, lower with --quick. */
    topConcurrency: Math.max(...run.concurrencies),
    seconds: Math.round(run.seconds),
    machine: machine(),
  };
  const lines = [
    `Paper workloads through Redis and the dispatcher, concurrency ${run.concurrencies.join(', ')}, closed loop; ` +
      `memory = (peak − idle RSS of the process tree) / concurrency`,
    '',
    ...run.workloads.flatMap((w) => cellTable(w.name, cells)),
    'Targets (same run):',
    ...(Math.max(...run.concurrencies) < 64
      ? [
          `  (--quick stops at concurrency ${Math.max(...run.concurrencies)}: the memory targets are the paper's figures for 64 and are judged here at ${Math.max(...run.concurrencies)}, where fewer jobs share each runtime)`,
        ]
      : []),
    ...evaluation.verdicts.map((v) => `  ${describeVerdict(v)}`),
    ...(skipped.length > 0 ? ['', 'Skipped cells:', ...describeSkipped(skipped)] : []),
    '',
    `${cells.length} cells in ${Math.round(run.seconds)} s.`,
  ];
  return { lines, result };
}

function cellTable(workload: string, cells: CellResult[]): string[] {
  const rows = cells
    .filter((c) => c.workload === workload)
    .map((c) => [
      c.mode,
      c.concurrency,
      (c.perInvocationBytes / MB).toFixed(2),
      (c.idleBytes / MB).toFixed(0),
      (c.peakBytes / MB).toFixed(0),
      c.heapPerRuntimeBytes === null ? '—' : (c.heapPerRuntimeBytes / MB).toFixed(1),
      c.runtimes,
      c.coldStarts,
      c.jobsPerSec,
      c.p50Ms,
      c.p99Ms,
      `${c.measuredJobs}${c.failed ? ` (${c.failed} failed)` : ''}${c.truncated ? ' (deadline)' : ''}`,
    ]);
  return [
    `${workload}:`,
    ...table(['mode', 'conc', 'MB/inv', 'idle MB', 'peak MB', 'heap/runtime MB', 'runtimes', 'cold', 'jobs/s', 'p50 ms', 'p99 ms', 'jobs'], rows),
    '',
  ];
}

/** Time-budget skips share one reason: one line for all of them, the others one line each. */
function describeSkipped(skipped: SkippedCell[]): string[] {
  const budget = skipped.filter((s) => s.reason.includes('budget'));
  const other = skipped.filter((s) => !s.reason.includes('budget'));
  return [
    ...other.map((s) => `  ${s.workload} ${s.mode} @${s.concurrency}: ${s.reason}`),
    ...(budget.length > 0
      ? [
          `  ${budget.length} cell(s) ${budget[0]!.reason.replace(/^not run: /, 'not run because ')}: ${budget.map((s) => `${s.workload} ${s.mode} @${s.concurrency}`).join(', ')}`,
        ]
      : []),
  ];
}
