// Resident memory of a process and all its descendants, sampled over time from /proc: what a host
// pays for a dispatcher with its runtime threads, or for a BullMQ worker with its child processes.
import { readFileSync, readdirSync } from 'node:fs';

/** The pid and every descendant's, from /proc/<pid>/task/<tid>/children. */
export function processTree(root: number): number[] {
  const pids: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    pids.push(pid);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited between the listing and now
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (children) pending.push(...children.split(/\s+/).map(Number));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return pids;
}

export function treeRssBytes(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // exited meanwhile: its memory is gone too
    }
  }
  return total;
}

export interface RssSeries {
  peakBytes: number;
  /** Integral of RSS over time, in byte-seconds (trapezoids between samples). */
  byteSeconds: number;
  samples: number;
  /** [ms since start, bytes], thinned to about 200 points for charts. */
  points: Array<[number, number]>;
}

/** Samples a process tree every `everyMs` until stopped. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();
  private readonly all: Array<[number, number]> = [];

  constructor(
    private readonly root: number,
    everyMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  /** Peak so far: a cell reads it while running to decide on the next one. */
  get peakBytes(): number {
    return this.all.reduce((peak, [, bytes]) => Math.max(peak, bytes), 0);
  }

  stop(): RssSeries {
    clearInterval(this.timer);
    this.sample();
    let byteSeconds = 0;
    for (let i = 1; i < this.all.length; i++) {
      const [t0, b0] = this.all[i - 1]!;
      const [t1, b1] = this.all[i]!;
      byteSeconds += ((b0 + b1) / 2) * ((t1 - t0) / 1000);
    }
    const step = Math.max(1, Math.ceil(this.all.length / 200));
    return {
      peakBytes: this.peakBytes,
      byteSeconds,
      samples: this.all.length,
      points: this.all.filter((_, i) => i % step === 0).map(([t, b]) => [Math.round(t), b]),
    };
  }

  private sample(): void {
    this.all.push([performance.now() - this.started, treeRssBytes(this.root)]);
  }
}
