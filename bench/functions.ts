// `photons bench functions`: one `photons dispatcher` at defaults serving many small functions
// (issue "many functions per dispatcher"): the Redis connections it holds, its idle memory and CPU,
// its start-up time, and a burst of first jobs to 300 of them at once from a plain BullMQ producer.
// Redis is a private redis-server, so CLIENT LIST counts the dispatcher and the bench only.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { IDLE_GRACE_MS } from '../dispatcher/idle-budget';
import { startRedisServer } from '../dispatcher/redis-server';
import { workerConnection } from '../contract/redis';
import { sleep, until } from './faults/fleet';
import { machine, rssBytes, table, type SuiteOptions, type SuiteReport } from './report';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PHOTONS_BIN = path.join(REPO_ROOT, 'bin', 'photons.js');
/** The bench's own connections carry this name; CLIENT LIST counts the others. */
const BENCH_CLIENT = 'photons-bench';
const PREFIX = 'bull';
const TARGETS = { connectionsBase: 50, connectionsPerActiveFunction: 2, idleRssMBPer1000: 300, burstP99Ms: 5_000 };

export interface FunctionsBenchResult {
  suite: 'functions';
  functions: number;
  burstFunctions: number;
  redisConnections: number;
  idleRssMB: number;
  idleCpuPercent: number;
  idleThreads: number;
  startupSeconds: number;
  burstP50Ms: number;
  burstP99Ms: number;
  burstMaxMs: number;
  /** First jobs that failed instead of answering (none unless the machine starves the dispatcher), and why. */
  burstFailed: number;
  burstFailedReason: string | undefined;
  /** RSS and threads 2 s after the burst's last result. */
  burstRssMB: number;
  burstThreads: number;
  /** RSS and threads once the burst's runtimes have idled past the idle budget's grace. */
  afterBurstRssMB: number;
  afterBurstThreads: number;
  afterBurstRedisConnections: number;
  targets: Record<string, number>;
  met: Record<string, boolean>;
  machine: Record<string, unknown>;
}

export async function functionsBench(options: SuiteOptions): Promise<SuiteReport> {
  const functions = options.quick ? 300 : 1_000;
  const burst = options.quick ? 100 : 300;
  const result = await measure(functions, burst);
  const pad = (n: number) => String(n).padStart(4, ' ');
  const lines = [
    `one \`photons dispatcher\` at defaults serving ${functions} trivial functions; a plain BullMQ producer adds one job to each of ${burst} at once`,
    '',
    ...table(
      ['measure', 'figure', 'target'],
      [
        ['Redis connections, idle', result.redisConnections, `<= ${TARGETS.connectionsBase} (no function had jobs)`],
        [
          'Redis connections, after the burst',
          result.afterBurstRedisConnections,
          `<= ${TARGETS.connectionsBase + TARGETS.connectionsPerActiveFunction * burst} (${burst} functions had jobs)`,
        ],
        ['idle RSS (MB)', result.idleRssMB, `<= ${result.targets.idleRssMB}`],
        ['idle CPU (% of a core)', result.idleCpuPercent, ''],
        ['idle threads', result.idleThreads, ''],
        ['start-up (s)', result.startupSeconds, ''],
        [`first job of ${pad(burst).trim()} functions at once, p50 (ms)`, result.burstP50Ms, ''],
        [`first job of ${pad(burst).trim()} functions at once, p99 (ms)`, result.burstP99Ms, `<= ${TARGETS.burstP99Ms}`],
        [`first jobs failed`, result.burstFailed, '0'],
        ['2 s after the burst: RSS (MB)', result.burstRssMB, ''],
        ['2 s after the burst: threads', result.burstThreads, ''],
        [`${(IDLE_GRACE_MS + 5_000) / 1000} s after the burst: RSS (MB)`, result.afterBurstRssMB, ''],
        [`${(IDLE_GRACE_MS + 5_000) / 1000} s after the burst: threads`, result.afterBurstThreads, ''],
      ],
    ),
    '',
    `targets: ${Object.entries(result.met)
      .map(([name, met]) => `${name} ${met ? 'met' : 'MISSED'}`)
      .join(', ')}`,
  ];
  return { lines, result: { ...result } };
}

async function measure(functions: number, burst: number): Promise<FunctionsBenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'photons-bench-functions-'));
  const names = Array.from({ length: functions }, (_, i) => `fn${String(i).padStart(4, '0')}`);
  for (const name of names) {
    writeFileSync(path.join(dir, `${name}.ts`), `export default async function ${name}(input: { n: number }) {\n  return { fn: '${name}', n: input.n };\n}\n`);
  }
  const redisServer = await startRedisServer(['--maxclients', '20000']);
  const redis = new Redis({ ...workerConnection(redisServer.url), connectionName: BENCH_CLIENT });
  const started = performance.now();
  const child = spawn(process.execPath, [PHOTONS_BIN, 'dispatcher'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PHOTONS_REDIS_URL: redisServer.url,
      PHOTONS_REDIS_PREFIX: PREFIX,
      PHOTONS_FUNCTIONS_DIR: dir,
      PHOTONS_REDIS_AUTOSTART: 'false',
      PHOTONS_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let servingAt: number | undefined;
  const keep = (chunk: string): void => {
    if (servingAt === undefined && /dispatcher serving \d+ function/.test(output.slice(-500) + chunk)) servingAt = performance.now();
    output = (output + chunk).slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = once(child, 'exit');
  const alive = () => child.exitCode === null && child.signalCode === null;
  const queues: Queue[] = [];
  try {
    await until(
      'the dispatcher to log that it is serving',
      () => {
        if (!alive()) throw new Error(`the dispatcher exited:\n${output.slice(-3_000)}`);
        return servingAt !== undefined;
      },
      600_000,
      20,
    );
    const startupSeconds = (servingAt! - started) / 1000;
    const pid = child.pid!;
    // Settled: connections made, spare threads booted, start-up garbage collected or not.
    await sleep(3_000);
    const cpuBefore = cpuSeconds(pid);
    const idleWindowMs = 5_000;
    await sleep(idleWindowMs);
    const idleCpuPercent = ((cpuSeconds(pid) - cpuBefore) / (idleWindowMs / 1000)) * 100;
    const idleRssMB = rssBytes(pid) / 2 ** 20;
    const idleThreads = threads(pid);
    const redisConnections = await dispatcherConnections(redis);

    // The burst: every job added at once by a plain producer; each result's finishedOn (the
    // dispatcher's clock, the same machine) minus the job's timestamp (the producer's) is its latency.
    const targets = names.filter((_, i) => i % Math.floor(functions / burst) === 0).slice(0, burst);
    queues.push(...targets.map((name) => new Queue(name, { connection: redis, prefix: PREFIX })));
    const jobs = await Promise.all(queues.map((queue, n) => queue.add('first', { n })));
    const finished = await until(
      `the ${burst} first jobs to finish`,
      async () => {
        if (!alive()) throw new Error(`the dispatcher exited:\n${output.slice(-3_000)}`);
        const pipeline = redis.pipeline();
        for (const job of jobs) pipeline.hmget(`${PREFIX}:${job.queueName}:${job.id!}`, 'timestamp', 'finishedOn', 'failedReason');
        const rows = (await pipeline.exec())!.map(([, row]) => row as Array<string | null>);
        // A job failed (its lock lost too often on a starved machine, say) is finished too: counted apart.
        if (rows.some((row) => !row[1])) return undefined;
        return rows;
      },
      600_000,
      25,
    );
    const failedRows = finished.filter((row) => row[2]);
    const latencies = finished.map((row) => Number(row[1]) - Number(row[0]));
    await sleep(2_000);
    const burstRssMB = rssBytes(pid) / 2 ** 20;
    const burstThreads = threads(pid);
    const afterBurstRedisConnections = await dispatcherConnections(redis);
    // Past the idle budget's grace (dispatcher/idle-budget.ts): what the burst's runtimes keep.
    await sleep(IDLE_GRACE_MS + 3_000);
    const afterBurstRssMB = rssBytes(pid) / 2 ** 20;
    const afterBurstThreads = threads(pid);
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    const targetsFor = {
      redisConnectionsIdle: TARGETS.connectionsBase,
      redisConnectionsAfterBurst: TARGETS.connectionsBase + TARGETS.connectionsPerActiveFunction * burst,
      idleRssMB: (TARGETS.idleRssMBPer1000 * Math.max(functions, 1_000)) / 1_000,
      burstP99Ms: TARGETS.burstP99Ms,
    };
    const result = {
      suite: 'functions' as const,
      functions,
      burstFunctions: burst,
      redisConnections,
      idleRssMB: round(idleRssMB),
      idleCpuPercent: round(idleCpuPercent),
      idleThreads,
      startupSeconds: round(startupSeconds, 2),
      burstP50Ms: at(0.5),
      burstP99Ms: at(0.99),
      burstMaxMs: sorted[sorted.length - 1]!,
      burstFailed: failedRows.length,
      burstFailedReason: failedRows[0]?.[2] ?? undefined,
      burstRssMB: round(burstRssMB),
      burstThreads,
      afterBurstRssMB: round(afterBurstRssMB),
      afterBurstThreads,
      afterBurstRedisConnections,
      targets: targetsFor,
      met: {
        redisConnectionsIdle: redisConnections <= targetsFor.redisConnectionsIdle,
        redisConnectionsAfterBurst: afterBurstRedisConnections <= targetsFor.redisConnectionsAfterBurst,
        idleRssMB: idleRssMB <= targetsFor.idleRssMB,
        burstP99Ms: at(0.99) <= targetsFor.burstP99Ms && failedRows.length === 0,
      },
      machine: machine(),
    };
    return result;
  } finally {
    if (alive()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await Promise.all(queues.map((queue) => queue.close()));
    await redis.quit().catch(() => redis.disconnect());
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Connections other than the bench's own (CLIENT LIST), i.e. the dispatcher's. */
async function dispatcherConnections(redis: Redis): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list.split('\n').filter((line) => line.trim() !== '' && !line.includes(`name=${BENCH_CLIENT} `)).length;
}

/** User plus system CPU time of a process so far, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the line (utime, stime), counted after the command's closing parenthesis.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function threads(pid: number): number {
  const match = /Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

function round(value: number, digits = 1): number {
  return Number(value.toFixed(digits));
}
