// A closed-loop load: `concurrency` jobs outstanding at all times through Redis, a new one enqueued
// as each finishes. The first wave warms the system; the jobs after it are measured.
import type { Queue, QueueEvents } from 'bullmq';
import type { SandboxedResult } from './paper-protocol';

export interface LoadOptions {
  concurrency: number;
  measuredJobs: number;
  windowMs: number;
  input(i: number): unknown;
  /**
   * The load stops after this long even if jobs are still out (a slow cell must not hold up the
   * suite): what was measured so far is returned, marked truncated.
   */
  deadlineMs: number;
}

export interface LoadResult {
  /** Enqueue to completion of each measured job, in ms. */
  latenciesMs: number[];
  /** Completions per second between the end of the warm-up and the last measured enqueue. */
  jobsPerSec: number;
  completed: number;
  failed: number;
  failures: string[];
  /** Distinct runtimes named by sandboxed processors' results. */
  runtimes: Set<string>;
  warmupMs: number;
  /** The deadline passed with jobs still out: figures cover what finished before it. */
  truncated: boolean;
}

export async function closedLoop(queue: Queue, events: QueueEvents, options: LoadOptions): Promise<LoadResult> {
  const { concurrency } = options;
  const pending = new Map<string, { enqueuedAt: number; measured: boolean }>();
  const result: LoadResult = { latenciesMs: [], jobsPerSec: 0, completed: 0, failed: 0, failures: [], runtimes: new Set(), warmupMs: 0, truncated: false };
  const started = performance.now();
  let next = 0;
  let measuring = false;
  let measuredEnqueued = 0;
  let windowStart = 0;
  let windowCompletions = 0;
  let stopped = false;
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));

  const enqueue = async (measured: boolean): Promise<void> => {
    const i = next++;
    // Registered before `add` resolves: a fast job's event can arrive first.
    pending.set(`j${i}`, { enqueuedAt: performance.now(), measured });
    await queue.add('job', options.input(i), { removeOnComplete: true, removeOnFail: true, jobId: `j${i}` });
  };
  const onFinished = (jobId: string, ok: boolean, detail: unknown): void => {
    const entry = pending.get(jobId);
    if (!entry) return;
    pending.delete(jobId);
    const now = performance.now();
    if (ok) result.completed++;
    else {
      result.failed++;
      if (result.failures.length < 3) result.failures.push(String(detail));
    }
    if (ok && detail && typeof detail === 'object' && 'runtime' in detail) result.runtimes.add((detail as SandboxedResult).runtime);
    if (entry.measured) result.latenciesMs.push(now - entry.enqueuedAt);
    if (measuring && !stopped) windowCompletions++;
    if (!measuring && result.completed + result.failed >= concurrency) {
      measuring = true;
      windowStart = now;
      result.warmupMs = now - started;
    }
    if (measuring && !stopped && (measuredEnqueued >= options.measuredJobs || now - windowStart >= options.windowMs)) {
      stopped = true;
      result.jobsPerSec = windowCompletions / ((now - windowStart) / 1000);
    }
    if (!stopped) {
      if (measuring) measuredEnqueued++;
      enqueue(measuring).catch(fail);
    } else if (pending.size === 0) finish();
  };
  const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }): void =>
    onFinished(jobId, true, typeof returnvalue === 'string' ? safeParse(returnvalue) : returnvalue);
  const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void => onFinished(jobId, false, failedReason);
  events.on('completed', onCompleted);
  events.on('failed', onFailed);
  const deadline = setTimeout(() => {
    result.truncated = true;
    const now = performance.now();
    if (!stopped) {
      stopped = true;
      result.jobsPerSec = measuring ? windowCompletions / ((now - windowStart) / 1000) : NaN;
    }
    if (!measuring) result.warmupMs = now - started;
    finish();
  }, options.deadlineMs);
  try {
    for (let k = 0; k < concurrency; k++) pending.set(`j${k}`, { enqueuedAt: performance.now(), measured: false });
    next = concurrency;
    await queue.addBulk(
      Array.from({ length: concurrency }, (_, k) => ({
        name: 'job',
        data: options.input(k),
        opts: { removeOnComplete: true, removeOnFail: true, jobId: `j${k}` },
      })),
    );
    await done;
  } finally {
    clearTimeout(deadline);
    events.off('completed', onCompleted);
    events.off('failed', onFailed);
  }
  return result;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
