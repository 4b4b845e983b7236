// Shared by the dispatcher's end-to-end tests: a real Redis, a fresh key prefix per test, and one
// place that closes every connection, queue, dispatcher and child process and removes the keys.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as path from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import pino from 'pino';
import { loadConfig, type ConfigOverrides, type PhotonsConfig } from '../../config';
import { Dispatcher, type DispatcherStats } from '../../dispatcher/dispatcher';
import { readHeartbeats } from '../../contract/fleet';
import { removeKeys, scanKeys, workerConnection } from '../../contract/redis';

export const REDIS_URL = process.env.PHOTONS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The repository root, from build/test/dispatcher where the compiled tests run. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** The example functions, as a dispatcher serves them. */
export const FUNCTIONS_DIR = path.join(REPO_ROOT, 'bench', 'workloads');
/** The fixtures of these tests (sources: the dispatcher bundles them itself). */
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'dispatcher');
export const PHOTONS_BIN = path.join(REPO_ROOT, 'bin', 'photons.js');

/**
 * Timings short enough that lost locks, stalled jobs, blocked runtimes and heartbeats show up
 * within a test: lock 2 s, stalled check every 1 s, watchdog 1 s, heartbeat 0.5 s, and a shutdown
 * grace of 3 s so that a failed test does not hang in its cleanup.
 */
export const SHORT_TIMINGS = {
  'dispatcher.lockDurationMs': 2_000,
  'dispatcher.stalledIntervalMs': 1_000,
  'dispatcher.heartbeatMs': 500,
  'runtime.watchdogMs': 1_000,
  'dispatcher.shutdownGraceMs': 3_000,
  'log.level': 'error',
} as const;

/** The same timings as PHOTONS_* env vars, for dispatcher processes. */
export const SHORT_TIMINGS_ENV = {
  PHOTONS_LOCK_DURATION_MS: '2000',
  PHOTONS_STALLED_INTERVAL_MS: '1000',
  PHOTONS_HEARTBEAT_MS: '500',
  PHOTONS_WATCHDOG_MS: '1000',
  PHOTONS_SHUTDOWN_GRACE_MS: '3000',
  PHOTONS_LOG_LEVEL: 'warn',
} as const;

export function newPrefix(): string {
  return `t-${randomBytes(5).toString('hex')}`;
}

/** Resolves when `check` returns a value other than undefined/false; rejects after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface Finished {
  completed: Map<string, unknown>;
  failed: Map<string, string>;
}

/**
 * Collects the final outcome of jobs from a QueueEvents stream. Start it before adding jobs so that
 * no event is missed; `wait(ids)` resolves once each id has completed or failed for good.
 */
export class FinishTracker {
  readonly completed = new Map<string, unknown>();
  readonly failed = new Map<string, string>();
  private wake: (() => void) | undefined;

  constructor(events: QueueEvents) {
    events.on('completed', ({ jobId, returnvalue }) => {
      this.completed.set(jobId, returnvalue);
      this.wake?.();
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.failed.set(jobId, failedReason);
      this.wake?.();
    });
  }

  get count(): number {
    return this.completed.size + this.failed.size;
  }

  async wait(ids: readonly string[], timeoutMs: number): Promise<Finished> {
    const missing = (): string[] => ids.filter((id) => !this.completed.has(id) && !this.failed.has(id));
    const deadline = Date.now() + timeoutMs;
    while (missing().length > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const ids = missing();
        throw new Error(`timed out after ${timeoutMs} ms: ${ids.length} job(s) not finished (e.g. ${ids.slice(0, 5).join(', ')})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return { completed: this.completed, failed: this.failed };
  }
}

export interface SpawnedDispatcher {
  child: ChildProcess;
  /** Everything the process wrote so far (pino JSON lines and any stack trace). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * One test's world: a key prefix of its own, the Redis clients, queues, dispatchers and processes
 * it opened, all closed by `cleanup()` (in an afterEach), which also removes the prefix's keys.
 */
export class TestBed {
  readonly prefix = newPrefix();
  readonly connection: RedisOptions;
  /** Dispatchers and processes: they hold jobs, so they stop before the queues and clients close. */
  private readonly stoppers: Array<() => Promise<unknown>> = [];
  private readonly closers: Array<() => Promise<unknown>> = [];
  private readonly queues = new Map<string, Queue>();
  private readonly trackers = new Map<string, FinishTracker>();
  private client: Redis | undefined;

  constructor(readonly url = REDIS_URL) {
    this.connection = workerConnection(url);
  }

  /** A Redis client for checks (heartbeats, cancel requests). */
  get redis(): Redis {
    if (!this.client) {
      const client = new Redis(this.connection);
      client.on('error', () => undefined); // a test that stops Redis sees it in its own assertions
      this.client = client;
      this.closers.push(() => client.quit().catch(() => client.disconnect()));
    }
    return this.client;
  }

  config(overrides: ConfigOverrides = {}): Readonly<PhotonsConfig> {
    return loadConfig({ functionsDir: FIXTURES_DIR, ...SHORT_TIMINGS, 'redis.url': this.url, 'redis.prefix': this.prefix, ...overrides });
  }

  /** A plain BullMQ queue of one function, as any producer would open it. */
  queue(fn: string): Queue {
    let queue = this.queues.get(fn);
    if (!queue) {
      const created = new Queue(fn, { connection: this.connection, prefix: this.prefix });
      this.closers.push(() => created.close());
      this.queues.set(fn, created);
      queue = created;
    }
    return queue;
  }

  /** The outcomes of one function's jobs, listening from now on. */
  async tracker(fn: string): Promise<FinishTracker> {
    let tracker = this.trackers.get(fn);
    if (!tracker) {
      const events = new QueueEvents(fn, { connection: this.connection, prefix: this.prefix });
      this.closers.push(() => events.close());
      await events.waitUntilReady();
      tracker = new FinishTracker(events);
      this.trackers.set(fn, tracker);
    }
    return tracker;
  }

  async events(fn: string): Promise<QueueEvents> {
    const events = new QueueEvents(fn, { connection: this.connection, prefix: this.prefix });
    this.closers.push(() => events.close());
    await events.waitUntilReady();
    return events;
  }

  /** An in-process dispatcher on this prefix, started; closed at cleanup. */
  async dispatcher(overrides: ConfigOverrides = {}): Promise<Dispatcher> {
    const config = this.config(overrides);
    const dispatcher = new Dispatcher(config, pino({ level: config.log.level }));
    this.stoppers.push(() => dispatcher.close());
    await dispatcher.start();
    return dispatcher;
  }

  /** `node bin/photons.js <command>` on this prefix; SIGKILLed at cleanup if still running. */
  spawn(command: 'dispatcher' | 'start', env: Record<string, string> = {}): SpawnedDispatcher {
    const child = spawn(process.execPath, [PHOTONS_BIN, command], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...SHORT_TIMINGS_ENV,
        PHOTONS_REDIS_URL: this.url,
        PHOTONS_REDIS_PREFIX: this.prefix,
        PHOTONS_FUNCTIONS_DIR: FIXTURES_DIR,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    this.stoppers.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    return { child, output: () => output, exited };
  }

  /** The heartbeats of every dispatcher on this prefix. */
  heartbeats(): Promise<DispatcherStats[]> {
    return readHeartbeats(this.redis, this.prefix);
  }

  /** Waits until a dispatcher process has published its first heartbeat: it is consuming. */
  async serving(pid: number, timeoutMs = 20_000): Promise<DispatcherStats> {
    return until(`dispatcher pid ${pid} to publish a heartbeat`, async () => (await this.heartbeats()).find((s) => s.pid === pid), timeoutMs, 100);
  }

  scan(pattern: string): Promise<string[]> {
    return scanKeys(this.redis, pattern);
  }

  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const stopped = await Promise.allSettled(this.stoppers.splice(0).map((stop) => stop()));
    for (const result of stopped) if (result.status === 'rejected') errors.push(result.reason);
    for (const close of this.closers.splice(0).reverse()) {
      await close().catch((err: unknown) => errors.push(err));
    }
    this.client = undefined;
    this.queues.clear();
    this.trackers.clear();
    await removeKeys(this.connection, `${this.prefix}:*`);
    if (errors.length > 0) throw errors[0];
  }
}

/** SCAN + UNLINK of every key matching `pattern`, with a client of its own. */
export { removeKeys };

/** Fetches jobs by id (BullMQ's getJob per id, in parallel), failing on any that is gone. */
export async function jobsById(queue: Queue, ids: readonly string[]): Promise<Job[]> {
  return Promise.all(
    ids.map(async (id) => {
      const job = await queue.getJob(id);
      if (!job) throw new Error(`job ${id} of ${queue.name} is not in Redis`);
      return job;
    }),
  );
}
