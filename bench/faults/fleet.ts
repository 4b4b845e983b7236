// The processes of a fault scenario, as deployed: `photons dispatcher` and `photons api` children
// (optionally inside a network namespace), their heartbeats, and one place that stops them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import type { DispatcherStats } from '../../dispatcher/dispatcher';
import { readHeartbeats } from '../../contract/fleet';
import { workerConnection } from '../../contract/redis';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const PHOTONS_BIN = path.join(REPO_ROOT, 'bin', 'photons.js');
/** The fixtures' sources: the dispatcher bundles them itself. */
export const FAULT_FUNCTIONS_DIR = path.join(REPO_ROOT, 'bench', 'faults', 'functions');

/**
 * Short enough that a lost dispatcher, a blocked runtime and a heartbeat show within seconds (lock
 * 2 s, stalled check 1 s, watchdog 1 s), and bounded work per process on a shared 2-core machine.
 */
export const FAULT_ENV = {
  PHOTONS_LOCK_DURATION_MS: '2000',
  PHOTONS_STALLED_INTERVAL_MS: '1000',
  PHOTONS_HEARTBEAT_MS: '500',
  PHOTONS_WATCHDOG_MS: '1000',
  PHOTONS_SHUTDOWN_GRACE_MS: '3000',
  PHOTONS_CONCURRENCY: '32',
  PHOTONS_PHOTONS_PER_RUNTIME: '32',
  PHOTONS_MAX_RUNTIMES: '1',
  PHOTONS_LOG_LEVEL: 'warn',
} as const;

export interface Member {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote (pino JSON lines, stack traces): the reason when something goes wrong. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

export class Fleet {
  readonly redis: Redis;
  private readonly members: Member[] = [];

  /** `url`: Redis as this process reaches it (loopback); `prefix`: the scenario's own keys. */
  constructor(
    readonly url: string,
    readonly prefix: string,
  ) {
    this.redis = new Redis(workerConnection(url));
    this.redis.on('error', () => undefined);
  }

  /** Starts `photons <command>`; `redisUrl` is Redis as the child reaches it, `netns` its namespace. */
  spawn(command: 'dispatcher' | 'api', options: { env?: Record<string, string>; netns?: string; redisUrl?: string } = {}): Member {
    const argv = [process.execPath, PHOTONS_BIN, command];
    const [file, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
    const child = spawn(file!, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...FAULT_ENV,
        PHOTONS_REDIS_URL: options.redisUrl ?? this.url,
        PHOTONS_REDIS_PREFIX: this.prefix,
        PHOTONS_FUNCTIONS_DIR: FAULT_FUNCTIONS_DIR,
        PHOTONS_REDIS_AUTOSTART: 'false',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: string) => {
      // The tail is what explains a failure; a chatty process must not grow without bound.
      output = (output + chunk).slice(-200_000);
    };
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    // `ip netns exec` execs node in place, so the pid is the dispatcher's own (its heartbeat's).
    const member: Member = { child, pid: child.pid!, output: () => output, exited, alive: () => child.exitCode === null && child.signalCode === null };
    this.members.push(member);
    return member;
  }

  /** The heartbeats on this prefix: one per live dispatcher, expiring after three periods. */
  heartbeats(): Promise<DispatcherStats[]> {
    return readHeartbeats(this.redis, this.prefix);
  }

  async heartbeatOf(member: Member): Promise<DispatcherStats | undefined> {
    return (await this.heartbeats()).find((s) => s.pid === member.pid);
  }

  /** Waits until the dispatcher has published a heartbeat, i.e. it consumes. */
  async serving(member: Member, timeoutMs = 30_000): Promise<DispatcherStats> {
    return until(
      `dispatcher pid ${member.pid} to publish a heartbeat`,
      async () => {
        if (!member.alive()) throw new Error(`dispatcher pid ${member.pid} exited:\n${member.output().slice(-2_000)}`);
        return this.heartbeatOf(member);
      },
      timeoutMs,
      100,
    );
  }

  /** SIGTERM to every member still running (SIGKILL after 5 s), then closes the Redis client. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (!m.alive()) return m.exited;
        m.child.kill('SIGTERM');
        const timer = setTimeout(() => m.child.kill('SIGKILL'), 5_000);
        await m.exited;
        clearTimeout(timer);
      }),
    );
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Resolves with `check`'s first value other than undefined/false; rejects after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
