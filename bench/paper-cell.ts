// One cell of the paper benchmark: one workload, one mode, one concurrency, measured in a fresh
// child process (a dispatcher, or a BullMQ worker with sandboxed processors) from idle to peak.
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { workerConnection } from '../contract/redis';
import { closedLoop } from './paper-load';
import type { FromHost, HostStart, HostStats } from './paper-protocol';
import { RssSampler, treeRssBytes } from './paper-rss';
import type { PaperWorkload } from './paper-workloads';
import { median } from './report';

export type CellMode = 'photon' | 'shared' | 'lambda' | 'bullmq-process' | 'bullmq-thread';
export const CELL_MODES: CellMode[] = ['photon', 'shared', 'lambda', 'bullmq-process', 'bullmq-thread'];

export interface CellResult {
  workload: string;
  mode: CellMode;
  concurrency: number;
  idleBytes: number;
  peakBytes: number;
  /** (peak − idle) / concurrency. */
  perInvocationBytes: number;
  /** Peak over the run of the mean heap in use per runtime (dispatcher modes only). */
  heapPerRuntimeBytes: number | null;
  runtimes: number;
  jobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  coldStarts: number;
  measuredJobs: number;
  failed: number;
  failures: string[];
  warmupMs: number;
  /** The cell hit its deadline: memory is measured, throughput and latency cover what finished. */
  truncated: boolean;
  seconds: number;
  /** One-minute load average of the machine when the cell ended: the machine is shared. */
  loadAverage: number;
}

export interface CellEnv {
  redisUrl: string;
  /** Unique per cell: nothing of one cell's queues reaches the next. */
  prefix: string;
  functionsDir: string;
  /** JSON bundle files for the sandboxed processors, by function. */
  bundleFiles: Map<string, string>;
}

const DIST_BENCH = __dirname;

export async function runCell(workload: PaperWorkload, mode: CellMode, concurrency: number, quick: boolean, env: CellEnv): Promise<CellResult> {
  const started = performance.now();
  const start: HostStart =
    mode === 'bullmq-process' || mode === 'bullmq-thread'
      ? {
          kind: 'sandboxed',
          redisUrl: env.redisUrl,
          prefix: env.prefix,
          fn: workload.name,
          bundleFile: env.bundleFiles.get(workload.name)!,
          concurrency,
          useWorkerThreads: mode === 'bullmq-thread',
        }
      : { kind: 'dispatcher', redisUrl: env.redisUrl, prefix: env.prefix, functionsDir: env.functionsDir, mode, concurrency, keepAliveMs: 600_000 };
  const host = new HostProcess(start);
  const connection = workerConnection(env.redisUrl);
  const queue = new Queue(workload.name, { connection, prefix: env.prefix });
  const events = new QueueEvents(workload.name, { connection, prefix: env.prefix });
  try {
    await Promise.all([host.ready, events.waitUntilReady(), queue.waitUntilReady()]);
    // Idle: the host has loaded and connected but runs nothing yet.
    await sleep(500);
    const idle: number[] = [];
    for (let k = 0; k < 5; k++, await sleep(50)) idle.push(treeRssBytes(host.pid));
    const idleBytes = median(idle);
    const sampler = new RssSampler(host.pid, 50);
    let heapPerRuntime = 0;
    let runtimes = 0;
    const poll = setInterval(() => {
      void host.stats().then(
        (s) => {
          if (s.runtimeHeaps.length === 0) return;
          heapPerRuntime = Math.max(heapPerRuntime, s.runtimeHeaps.reduce((a, b) => a + b, 0) / s.runtimeHeaps.length);
          runtimes = Math.max(runtimes, s.runtimeHeaps.length);
        },
        () => undefined,
      );
    }, 250);
    let load;
    let series;
    try {
      load = await closedLoop(queue, events, {
        concurrency,
        measuredJobs: workload.measuredJobs(concurrency, quick),
        windowMs: workload.windowMs(quick),
        input: workload.input,
        deadlineMs: quick ? 60_000 : 120_000,
      });
    } finally {
      clearInterval(poll);
      series = sampler.stop();
    }
    const stats = await host.stats();
    const sorted = [...load.latenciesMs].sort((a, b) => a - b);
    const sandboxed = start.kind === 'sandboxed';
    return {
      workload: workload.name,
      mode,
      concurrency,
      idleBytes,
      peakBytes: series.peakBytes,
      perInvocationBytes: Math.max(0, series.peakBytes - idleBytes) / concurrency,
      heapPerRuntimeBytes: sandboxed ? null : heapPerRuntime,
      runtimes: sandboxed ? load.runtimes.size : runtimes,
      jobsPerSec: load.jobsPerSec,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      coldStarts: sandboxed ? load.runtimes.size : stats.coldStarts,
      measuredJobs: sorted.length,
      failed: load.failed,
      failures: load.failures,
      warmupMs: load.warmupMs,
      truncated: load.truncated,
      seconds: (performance.now() - started) / 1000,
      loadAverage: loadavg()[0]!,
    };
  } finally {
    await host.stop();
    await events.close();
    await queue.close();
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The child under measurement and its IPC. */
class HostProcess {
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private stderr = '';
  private statsWaiters: Array<(stats: HostStats) => void> = [];

  constructor(start: HostStart) {
    const entry = start.kind === 'sandboxed' ? path.join(DIST_BENCH, 'sandboxed', 'host.js') : path.join(DIST_BENCH, 'paper-host.js');
    this.child = fork(entry, [JSON.stringify(start)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4_000)));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: FromHost) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'error') reject(new Error(`host failed: ${message.message}`));
        else if (message.type === 'stats') this.statsWaiters.shift()?.(message.stats);
      });
      this.child.once('exit', (code) => reject(new Error(`host exited with ${code} before it was ready: ${this.stderr}`)));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  stats(): Promise<HostStats> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error('host is gone'));
      this.statsWaiters.push(resolve);
      this.child.send({ type: 'stats' });
    });
  }

  /** Asks for a graceful stop, then kills the child (and so its children) if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
