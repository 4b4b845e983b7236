// Replays a trace on the real system: every trace function becomes a function of its own (a copy
// of bench/functions/synthetic.ts), each invocation a job enqueued at its (compressed) start time,
// holding the trace's memory for its (compressed) duration, against a dispatcher in a child process.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { SyntheticInput } from '../functions/synthetic';
import type { FromHost, HostStart, HostStats } from '../paper-protocol';
import { RssSampler, treeRssBytes } from '../paper-rss';
import { median } from '../report';
import type { Trace } from './trace';

const SYNTHETIC = path.resolve(__dirname, '..', '..', '..', 'bench', 'functions', 'synthetic.ts');
const HOST = path.resolve(__dirname, '..', 'paper-host.js');

export interface ReplayOptions {
  mode: 'photon' | 'lambda';
  /** Trace time runs this many times faster: durations and keep-alive shrink alike. */
  compression: number;
  /** Trace memory is multiplied by this (a 2-core machine cannot hold a data centre's). */
  memoryScale: number;
  /** Keep-alive in trace time (the providers': 10 or 20 minutes). */
  keepAliveMs: number;
  /** Of each function's memory, what its runtime shares (libraries, model), in trace MB. */
  shareableMb: (fn: string) => number;
  redisUrl: string;
  prefix: string;
  /** A scratch folder for the per-function files. */
  scratch: string;
}

export interface ReplayResult {
  mode: string;
  invocations: number;
  completed: number;
  failed: number;
  coldStarts: number;
  idleBytes: number;
  peakBytes: number;
  /** RSS × time of the dispatcher's process tree over the replay, in GB·s (real time). */
  memoryGbSeconds: number;
  /** The same above the idle dispatcher: what the runtimes cost. */
  memoryGbSecondsAboveIdle: number;
  seconds: number;
  points: Array<[number, number]>;
}

export async function replay(trace: Trace, options: ReplayOptions): Promise<ReplayResult> {
  const functionsDir = path.join(options.scratch, `functions-${options.mode}`);
  mkdirSync(functionsDir, { recursive: true });
  for (const fn of trace.functions) {
    // A file per trace function: different functions never share a runtime, as on a platform.
    writeFileSync(path.join(functionsDir, `${fn.name}.ts`), `export { default, config } from ${JSON.stringify(SYNTHETIC.replace(/\.ts$/, ''))};\n`);
  }
  const inputs = new Map(
    trace.functions.map((fn) => {
      const sharedMb = Math.min(options.shareableMb(fn.name), 0.8 * fn.memoryMb);
      return [fn.name, { sharedMb: sharedMb * options.memoryScale, privateMb: (fn.memoryMb - sharedMb) * options.memoryScale }];
    }),
  );
  const start: HostStart = {
    kind: 'dispatcher',
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    functionsDir,
    mode: options.mode,
    concurrency: 64,
    keepAliveMs: Math.round(options.keepAliveMs / options.compression),
  };
  const child = fork(HOST, [JSON.stringify(start)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiters: Array<(stats: HostStats) => void> = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: FromHost) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'error') reject(new Error(message.message));
      else if (message.type === 'stats') waiters.shift()?.(message.stats);
    });
    child.once('exit', (code) => reject(new Error(`dispatcher exited with ${code}`)));
  });
  const stats = (): Promise<HostStats> => new Promise((resolve) => (waiters.push(resolve), child.send({ type: 'stats' })));
  // One connection for every queue: a trace has hundreds of functions.
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queues = new Map(trace.functions.map((fn) => [fn.name, new Queue(fn.name, { connection, prefix: options.prefix })]));
  try {
    await ready;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle: number[] = [];
    for (let k = 0; k < 5; k++) {
      idle.push(treeRssBytes(child.pid!));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const idleBytes = median(idle);
    const sampler = new RssSampler(child.pid!, 50);
    const started = performance.now();
    const addErrors: unknown[] = [];
    for (const invocation of trace.invocations) {
      const due = invocation.startMs / options.compression - (performance.now() - started);
      if (due > 1) await new Promise((resolve) => setTimeout(resolve, due));
      const input: SyntheticInput = { ms: Math.max(1, Math.round(invocation.durationMs / options.compression)), ...inputs.get(invocation.fn)! };
      // Not awaited: a slow add must not delay the invocations after it.
      queues
        .get(invocation.fn)!
        .add('invocation', input, { removeOnComplete: true, removeOnFail: true })
        .catch((err: unknown) => addErrors.push(err));
    }
    let last: HostStats;
    for (;;) {
      last = await stats();
      if (last.completed + last.failed >= trace.invocations.length - addErrors.length) break;
      if (performance.now() - started > trace.spanMs / options.compression + 120_000) throw new Error('replay did not finish');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const series = sampler.stop();
    return {
      mode: options.mode,
      invocations: trace.invocations.length,
      completed: last.completed,
      failed: last.failed,
      coldStarts: last.coldStarts,
      idleBytes,
      peakBytes: series.peakBytes,
      memoryGbSeconds: series.byteSeconds / 2 ** 30,
      memoryGbSecondsAboveIdle: Math.max(0, series.byteSeconds - idleBytes * seconds) / 2 ** 30,
      seconds,
      points: series.points,
    };
  } finally {
    if (child.connected) child.send({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    await Promise.all([...queues.values()].map((q) => q.close()));
    await connection.quit();
  }
}
