// Where the suites' figures go: one JSON file per suite and run under bench/results, SVG charts of
// the paper suite, and bench/RESULTS.md rebuilt from the latest file of each suite.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { lineChart, type Series } from './charts';
import type { CellResult } from './paper-cell';
import { tableOneLines } from './paper-targets';
import type { SuiteReport } from './report';

export type SuiteName = 'paper' | 'trace' | 'simulate';

const BENCH_DIR = path.resolve(__dirname, '..', '..', 'bench');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const MB = 1024 * 1024;

/** Writes the run's JSON (and the paper's charts), then rebuilds RESULTS.md. Returns the JSON path. */
export function saveResults(suite: SuiteName, report: SuiteReport): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stem = `${new Date().toISOString().slice(0, 10)}-${hostname()}${suite === 'paper' ? '' : `-${suite}`}`;
  const file = path.join(RESULTS_DIR, `${stem}.json`);
  writeFileSync(file, `${JSON.stringify({ ...report.result, lines: report.lines }, null, 2)}\n`);
  if (suite === 'paper') writeCharts(stem, report.result.cells as CellResult[]);
  writeFileSync(path.join(BENCH_DIR, 'RESULTS.md'), resultsMarkdown());
  return file;
}

function writeCharts(stem: string, cells: CellResult[]): void {
  for (const workload of [...new Set(cells.map((c) => c.workload))]) {
    const series = (value: (c: CellResult) => number): Series[] =>
      [...new Set(cells.map((c) => c.mode))].map((mode) => ({
        name: mode,
        points: cells.filter((c) => c.workload === workload && c.mode === mode).map((c) => [c.concurrency, value(c)] as [number, number]),
      }));
    writeFileSync(
      path.join(RESULTS_DIR, `${stem}-${workload}-memory.svg`),
      lineChart({
        title: `${workload}: memory per invocation`,
        xLabel: 'concurrent invocations',
        yLabel: 'MB per invocation (RSS)',
        xLog: true,
        yLog: true,
        series: series((c) => c.perInvocationBytes / MB),
      }),
    );
    writeFileSync(
      path.join(RESULTS_DIR, `${stem}-${workload}-latency.svg`),
      lineChart({
        title: `${workload}: p99 latency`,
        xLabel: 'concurrent invocations',
        yLabel: 'p99 enqueue to result (ms)',
        xLog: true,
        yLog: true,
        series: series((c) => c.p99Ms),
      }),
    );
  }
}

/** The latest result file of a suite: names start with the date, so they sort by time. */
function latest(suite: SuiteName): { file: string; data: Record<string, unknown> } | undefined {
  if (!existsSync(RESULTS_DIR)) return undefined;
  const mine = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => (suite === 'paper' ? !/-(trace|simulate)\.json$/.test(f) : f.endsWith(`-${suite}.json`)))
    .sort();
  const file = mine[mine.length - 1];
  return file ? { file, data: JSON.parse(readFileSync(path.join(RESULTS_DIR, file), 'utf8')) as Record<string, unknown> } : undefined;
}

const METHOD: Record<'trace' | 'simulate', string[]> = {
  trace: [
    'Every function of the trace becomes a function of its own (a copy of `bench/functions/synthetic.ts`), served by a',
    'real dispatcher in a child process; each invocation is a job enqueued at its start time (time compressed) that',
    'loads its shareable memory once per runtime (`ctx.shared`) and holds its own memory for its duration. Memory',
    "is the trace's × 0.1. Both modes get the same keep-alive (10 min of trace time). Memory-time is the RSS of the",
    "dispatcher's process tree sampled every 50 ms, integrated over the replay; the target compares it above the",
    'idle dispatcher (what the runtimes cost), and the table also gives it with the idle dispatcher counted.',
  ],
  simulate: [
    "A discrete-event simulation of the paper's setup in which every decision of placement (pack, spread), admission",
    '(slots and heap headroom) and keep-alive is made by `dispatcher/placement.ts` itself. A runtime holds its',
    "function's shareable memory from the moment it starts and the rest of the function's memory per invocation",
    'running in it, in both modes. CPU model `node`: a runtime is one event loop, so invocations sharing it slow',
    "each other down past one core, and a function's photonsPerRuntime is what fills a core (CPU shares from the",
    "paper's Table 1); `jvm`: the paper's assumption that a runtime uses every core. The headline is Poisson/node.",
    'Speed-up is the paper\'s "counting the cold starts avoided": over the short invocations that waited for a',
    'runtime to start under lambda and not under photon, the mean of lambda latency over photon latency.',
  ],
};

export function resultsMarkdown(): string {
  const out = [
    '# Photons beside the paper: results',
    '',
    'Written by `npx photons bench paper|trace|simulate` (full runs) from the latest file of each suite in',
    '`bench/results/`; every figure below comes from those files. The machine is shared, so only ratios',
    'measured in the same run are compared. What each suite measures and how is described in its section.',
    '',
  ];
  const paper = latest('paper');
  if (paper) {
    out.push(`## Paper workloads (\`photons bench paper\`, ${paper.file})`, '');
    out.push(
      'Each cell is a fresh child process (a dispatcher in photon, shared or lambda mode, or a BullMQ worker with',
      'sandboxed processors, a child process or a worker thread per concurrent job) fed a closed loop of jobs',
      'through Redis. Memory is the peak RSS of that process and its descendants (sampled every 50 ms) minus',
      'its idle RSS, over the concurrency. Latency is enqueue to completion of the jobs after the first wave;',
      'throughput is completions per second over the same window.',
      '',
      '```',
      ...(paper.data.lines as string[]),
      '```',
      '',
      "Memory per invocation at concurrency 64 beside the paper's memory per extra invocation (Table 1; `transform`",
      'stands for Video). The paper measured one more invocation in a container already running; here it is the',
      'peak RSS above idle over the jobs, runtimes included, so it is the larger of the two measures.',
      '',
      '```',
      ...tableOneLines(paper.data.cells as CellResult[]),
      '```',
      '',
    );
    const stem = paper.file.replace(/\.json$/, '');
    for (const workload of [...new Set((paper.data.cells as CellResult[]).map((c) => c.workload))]) {
      out.push(`![${workload} memory](results/${stem}-${workload}-memory.svg) ![${workload} latency](results/${stem}-${workload}-latency.svg)`, '');
    }
  }
  for (const suite of ['trace', 'simulate'] as const) {
    const run = latest(suite);
    if (!run) continue;
    out.push(`## ${suite === 'trace' ? 'Trace replay on the real system' : 'Cluster simulation'} (\`photons bench ${suite}\`, ${run.file})`, '');
    out.push(...METHOD[suite], '', '```', ...(run.data.lines as string[]), '```', '');
  }
  return `${out.join('\n')}\n`;
}
