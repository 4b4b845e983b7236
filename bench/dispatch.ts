// `photons bench dispatch`: trivial jobs through the whole path (addBulk → Redis → dispatcher →
// photon runtime → result in Redis) against a plain BullMQ Worker with an inline processor, at the
// same concurrency, with the same job options, on the same Redis, in the same run; a variant whose jobs log one line
// each (stored in their BullMQ job logs at defaults); and the CPU per job of each side (bench/cpu.ts).
import * as path from 'node:path';
import { Queue, QueueEvents, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { removeKeys, workerConnection } from '../contract/redis';
import { ensureRedis, type LocalRedis } from '../dispatcher/redis-server';
import { cpuPerJob, readCpu, type CpuPerJob } from './cpu';
import { machine, median, table, type SuiteOptions, type SuiteReport } from './report';

const FUNCTIONS = path.join(__dirname, '..', '..', 'bench', 'functions');
const JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true };

export async function dispatchBench(options: SuiteOptions): Promise<SuiteReport> {
  const logger = pino({ level: 'warn' });
  const base = loadConfig();
  const redis = await ensureRedis(base.redis, base.redis.autostart, logger);
  const prefix = `bench-${process.pid}-${Date.now().toString(36)}`;
  const jobs = options.quick ? 5_000 : 20_000;
  const concurrency = 128;
  const rounds = options.quick ? 1 : 3;
  const connection = workerConnection(redis.url);
  const info = new Redis(connection);
  const configFor = (overrides: Record<string, unknown>) =>
    loadConfig({
      'redis.url': redis.url,
      'redis.prefix': prefix,
      functionsDir: FUNCTIONS,
      'dispatcher.concurrency': concurrency,
      'runtime.photonsPerRuntime': concurrency,
      'log.level': 'warn',
      ...overrides,
    });
  try {
    const photon: Throughput[] = [];
    const logging: Throughput[] = [];
    const bullmq: Throughput[] = [];
    for (let round = 0; round < rounds; round++) {
      photon.push(await photonThroughput(configFor({}), connection, info, prefix, jobs, 'noop'));
      bullmq.push(await bullmqThroughput(connection, info, prefix, jobs, concurrency));
      logging.push(await photonThroughput(configFor({}), connection, info, prefix, jobs, 'noop-log'));
    }
    const samples = options.quick ? 5 : 9;
    const latency = await latencies(configFor({ 'runtime.keepAliveMs': 0 }), connection, prefix, samples);
    // The same cold starts without a booted spare thread: what starting a thread costs.
    const noSpare = await latencies(configFor({ 'runtime.keepAliveMs': 0, 'runtime.spareThreads': 0 }), connection, prefix, samples);
    const photonJobsPerSec = median(photon.map((t) => t.jobsPerSec));
    const bullmqJobsPerSec = median(bullmq.map((t) => t.jobsPerSec));
    const loggingJobsPerSec = median(logging.map((t) => t.jobsPerSec));
    const cpu = { photon: medianCpu(photon), bullmq: medianCpu(bullmq), photonLogging: medianCpu(logging) };
    // What one job log line adds to a job: wall time at full load, and CPU on each side.
    const logLineUs = Math.round(1e6 / loggingJobsPerSec - 1e6 / photonJobsPerSec);
    const result = {
      suite: 'dispatch',
      jobs,
      concurrency,
      rounds,
      photonJobsPerSec: Math.round(photonJobsPerSec),
      bullmqJobsPerSec: Math.round(bullmqJobsPerSec),
      ratio: Number((photonJobsPerSec / bullmqJobsPerSec).toFixed(3)),
      loggingJobsPerSec: Math.round(loggingJobsPerSec),
      logLineUsPerJob: logLineUs,
      cpuUsPerJob: cpu,
      coldStartMs: Number(latency.coldStartMs.toFixed(1)),
      warmLatencyMs: Number(latency.warmLatencyMs.toFixed(2)),
      coldStartNoSpareMs: Number(noSpare.coldStartMs.toFixed(1)),
      samples: {
        photonJobsPerSec: photon.map((t) => Math.round(t.jobsPerSec)),
        bullmqJobsPerSec: bullmq.map((t) => Math.round(t.jobsPerSec)),
        loggingJobsPerSec: logging.map((t) => Math.round(t.jobsPerSec)),
        ...latency.samples,
        coldStartNoSpareMs: noSpare.samples.coldStartMs,
      },
      targets: { ratio: 1.0, coldStartMs: 50 },
      machine: machine(),
    };
    const lines = [
      `${jobs.toLocaleString('en-US')} trivial jobs, concurrency ${concurrency}, removeOnComplete, median of ${rounds} round(s), same Redis`,
      '',
      ...table(
        ['consumer', 'jobs/s', 'rounds'],
        [
          ['photons dispatcher (photon mode)', photonJobsPerSec, result.samples.photonJobsPerSec.join(' ')],
          ['plain BullMQ Worker, inline processor', bullmqJobsPerSec, result.samples.bullmqJobsPerSec.join(' ')],
          ['photons dispatcher, each job logs one line', loggingJobsPerSec, result.samples.loggingJobsPerSec.join(' ')],
        ],
      ),
      '',
      'CPU per job (µs, median of the rounds): the side that runs out of a core first bounds the throughput',
      ...table(
        ['consumer', 'main thread', 'other threads', 'redis-server'],
        [
          ['photons dispatcher', cpu.photon.mainUs, cpu.photon.threadsUs, cpu.photon.redisUs],
          ['plain BullMQ Worker', cpu.bullmq.mainUs, cpu.bullmq.threadsUs, cpu.bullmq.redisUs],
          ['photons, one log line per job', cpu.photonLogging.mainUs, cpu.photonLogging.threadsUs, cpu.photonLogging.redisUs],
        ],
      ),
      '',
      `one job log line (ctx.log.info, at the default log.jobLevel info: stored in the BullMQ job log) adds ${logLineUs} µs per job at full load`,
      `ratio photon/bullmq: ${result.ratio} (target >= 1.0: ${result.ratio >= 1 ? 'met' : 'MISSED'})`,
      `cold start, enqueue to result, no runtime warm: ${result.coldStartMs} ms median (target <= 50: ${result.coldStartMs <= 50 ? 'met' : 'MISSED'})`,
      `  the same without a booted spare thread (PHOTONS_SPARE_THREADS=0): ${result.coldStartNoSpareMs} ms median`,
      `warm latency, enqueue to result: ${result.warmLatencyMs} ms median`,
    ];
    return { lines, result };
  } finally {
    info.disconnect();
    await removeKeys(redis.url, `${prefix}:*`);
    await stopLocal(redis.local);
  }
}

interface Throughput {
  jobsPerSec: number;
  cpu: CpuPerJob;
}

/** Jobs/s from resuming a paused queue of `jobs` jobs to the last result, consumer already warm. */
async function photonThroughput(
  config: ReturnType<typeof loadConfig>,
  connection: object,
  info: Redis,
  prefix: string,
  jobs: number,
  fn: string,
): Promise<Throughput> {
  const queue = new Queue(fn, { connection, prefix });
  const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
  await dispatcher.start();
  const completed = (): number => dispatcher.stats().functions.find((f) => f.fn === fn)?.completed ?? 0;
  try {
    await queue.add('warm', { i: -1 }, JOB_OPTIONS);
    await until(() => completed() >= 1);
    const start = await fill(queue, jobs);
    const before = completed();
    const cpuBefore = await readCpu(info);
    const started = performance.now();
    await start();
    await until(() => completed() - before >= jobs);
    const jobsPerSec = jobs / ((performance.now() - started) / 1000);
    return { jobsPerSec, cpu: cpuPerJob(cpuBefore, await readCpu(info), jobs) };
  } finally {
    await dispatcher.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function bullmqThroughput(connection: object, info: Redis, prefix: string, jobs: number, concurrency: number): Promise<Throughput> {
  const queue = new Queue('bullmq-noop', { connection, prefix });
  let completed = 0;
  const worker = new Worker('bullmq-noop', async (job) => ({ i: (job.data as { i: number }).i }), { connection, prefix, concurrency });
  worker.on('completed', () => completed++);
  try {
    await queue.add('warm', { i: -1 }, JOB_OPTIONS);
    await until(() => completed >= 1);
    const start = await fill(queue, jobs);
    const before = completed;
    const cpuBefore = await readCpu(info);
    const started = performance.now();
    await start();
    await until(() => completed - before >= jobs);
    const jobsPerSec = jobs / ((performance.now() - started) / 1000);
    return { jobsPerSec, cpu: cpuPerJob(cpuBefore, await readCpu(info), jobs) };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** Adds the jobs to a paused queue; the function returned resumes it: the clock starts there. */
async function fill(queue: Queue, jobs: number): Promise<() => Promise<void>> {
  await queue.pause();
  for (let first = 0; first < jobs; first += 1_000) {
    const count = Math.min(1_000, jobs - first);
    await queue.addBulk(Array.from({ length: count }, (_, k) => ({ name: 'job', data: { i: first + k }, opts: JOB_OPTIONS })));
  }
  return () => queue.resume();
}

async function latencies(config: ReturnType<typeof loadConfig>, connection: object, prefix: string, samples: number) {
  const queue = new Queue('noop', { connection, prefix });
  const events = new QueueEvents('noop', { connection, prefix });
  const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
  await Promise.all([dispatcher.start(), events.waitUntilReady()]);
  const runtimes = (): number => dispatcher.stats().functions.find((f) => f.fn === 'noop')?.runtimes.length ?? 0;
  const once = async (): Promise<number> => {
    const started = performance.now();
    const job = await queue.add('job', { i: 1 }, { removeOnComplete: 100 });
    await job.waitUntilFinished(events, 30_000);
    return performance.now() - started;
  };
  const cold: number[] = [];
  const warm: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      // keepAliveMs 0: the runtime retires on the next tick after its job, so every sample is cold.
      await until(() => runtimes() === 0);
      cold.push(await once());
    }
    for (let i = 0; i < samples; i++) {
      await queue.add('keep-warm', { i: 0 }); // the next sample finds the runtime of this one
      warm.push(await once());
    }
  } finally {
    await dispatcher.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
  return {
    coldStartMs: median(cold),
    warmLatencyMs: median(warm),
    samples: { coldStartMs: cold.map((v) => Number(v.toFixed(1))), warmLatencyMs: warm.map((v) => Number(v.toFixed(2))) },
  };
}

function medianCpu(rounds: Throughput[]): CpuPerJob {
  return {
    mainUs: median(rounds.map((t) => t.cpu.mainUs)),
    threadsUs: median(rounds.map((t) => t.cpu.threadsUs)),
    redisUs: median(rounds.map((t) => t.cpu.redisUs)),
  };
}

async function until(condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out waiting for jobs');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function stopLocal(local: LocalRedis | undefined): Promise<void> {
  await local?.stop();
}
