// `photons bench dispatch`: trivial jobs through the whole path (addBulk → Redis → dispatcher →
// photon runtime → result in Redis) against a plain BullMQ Worker with an inline processor, at the
// same concurrency, with the same job options, on the same Redis, in the same run.
import * as path from 'node:path';
import { Queue, QueueEvents, Worker, type JobsOptions } from 'bullmq';
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { removeKeys, workerConnection } from '../contract/redis';
import { ensureRedis, type LocalRedis } from '../dispatcher/redis-server';
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
    const photon: number[] = [];
    const bullmq: number[] = [];
    for (let round = 0; round < rounds; round++) {
      photon.push(await photonThroughput(configFor({}), connection, prefix, jobs));
      bullmq.push(await bullmqThroughput(connection, prefix, jobs, concurrency));
    }
    const samples = options.quick ? 5 : 9;
    const latency = await latencies(configFor({ 'runtime.keepAliveMs': 0 }), connection, prefix, samples);
    // The same cold starts without a booted spare thread: what starting a thread costs.
    const noSpare = await latencies(configFor({ 'runtime.keepAliveMs': 0, 'runtime.spareThreads': 0 }), connection, prefix, samples);
    const photonJobsPerSec = median(photon);
    const bullmqJobsPerSec = median(bullmq);
    const result = {
      suite: 'dispatch',
      jobs,
      concurrency,
      rounds,
      photonJobsPerSec: Math.round(photonJobsPerSec),
      bullmqJobsPerSec: Math.round(bullmqJobsPerSec),
      ratio: Number((photonJobsPerSec / bullmqJobsPerSec).toFixed(3)),
      coldStartMs: Number(latency.coldStartMs.toFixed(1)),
      warmLatencyMs: Number(latency.warmLatencyMs.toFixed(2)),
      coldStartNoSpareMs: Number(noSpare.coldStartMs.toFixed(1)),
      samples: {
        photonJobsPerSec: photon.map(Math.round),
        bullmqJobsPerSec: bullmq.map(Math.round),
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
        ],
      ),
      '',
      `ratio photon/bullmq: ${result.ratio} (target >= 1.0: ${result.ratio >= 1 ? 'met' : 'MISSED'})`,
      `cold start, enqueue to result, no runtime warm: ${result.coldStartMs} ms median (target <= 50: ${result.coldStartMs <= 50 ? 'met' : 'MISSED'})`,
      `  the same without a booted spare thread (PHOTONS_SPARE_THREADS=0): ${result.coldStartNoSpareMs} ms median`,
      `warm latency, enqueue to result: ${result.warmLatencyMs} ms median`,
    ];
    return { lines, result };
  } finally {
    await removeKeys(redis.url, `${prefix}:*`);
    await stopLocal(redis.local);
  }
}

/** Jobs/s from resuming a paused queue of `jobs` jobs to the last result, consumer already warm. */
async function photonThroughput(config: ReturnType<typeof loadConfig>, connection: object, prefix: string, jobs: number): Promise<number> {
  const queue = new Queue('noop', { connection, prefix });
  const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
  await dispatcher.start();
  const completed = (): number => dispatcher.stats().functions.find((f) => f.fn === 'noop')?.completed ?? 0;
  try {
    await queue.add('warm', { i: -1 }, JOB_OPTIONS);
    await until(() => completed() >= 1);
    const start = await fill(queue, jobs);
    const before = completed();
    const started = performance.now();
    await start();
    await until(() => completed() - before >= jobs);
    return jobs / ((performance.now() - started) / 1000);
  } finally {
    await dispatcher.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function bullmqThroughput(connection: object, prefix: string, jobs: number, concurrency: number): Promise<number> {
  const queue = new Queue('bullmq-noop', { connection, prefix });
  let completed = 0;
  const worker = new Worker('bullmq-noop', async (job) => ({ i: (job.data as { i: number }).i }), { connection, prefix, concurrency });
  worker.on('completed', () => completed++);
  try {
    await queue.add('warm', { i: -1 }, JOB_OPTIONS);
    await until(() => completed >= 1);
    const start = await fill(queue, jobs);
    const before = completed;
    const started = performance.now();
    await start();
    await until(() => completed - before >= jobs);
    return jobs / ((performance.now() - started) / 1000);
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
