// `photons bench cluster`: the same trivial jobs of three functions through one Redis and through a
// local 3-master Redis Cluster (each function's queue on a master of its own), consumed by a
// dispatcher in this process, in the same run: what cluster mode costs or gains here.
import * as path from 'node:path';
import { Queue, type JobsOptions } from 'bullmq';
import { Cluster, type RedisOptions } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { bullConnection, connectRedis, type RedisTarget } from '../contract/redis';
import { queueName } from '../contract/keys';
import { startRedisServer } from '../dispatcher/redis-server';
import { ErrorCodes, PhotonsError } from '../errors';
import { clusterUnavailable, startRedisCluster } from './redis-cluster';
import { machine, median, table, type SuiteOptions, type SuiteReport } from './report';

const FUNCTIONS_DIR = path.join(__dirname, '..', '..', 'bench', 'functions', 'cluster');
/** noop under three names whose hash tags fall in the three masters' slot ranges. */
const FUNCTIONS = ['noop-a', 'noop-b', 'noop-c'];
const JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true };
const CONCURRENCY = 128;

export async function clusterBench(options: SuiteOptions): Promise<SuiteReport> {
  const missing = clusterUnavailable();
  if (missing) throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `${missing}: install redis-server (it brings redis-cli) to run this suite.`);
  const jobs = options.quick ? 6_000 : 30_000;
  const rounds = options.quick ? 1 : 3;
  const single = await startRedisServer();
  const cluster = await startRedisCluster(3).catch(async (err: unknown) => {
    await single.stop();
    throw err;
  });
  try {
    const one: RedisTarget = { url: single.url, cluster: false };
    const many: RedisTarget = { url: cluster.url, cluster: true };
    const oneSamples: number[] = [];
    const clusterSamples: number[] = [];
    for (let round = 0; round < rounds; round++) {
      oneSamples.push(await throughput(one, jobs, round));
      clusterSamples.push(await throughput(many, jobs, round));
    }
    const placement = await mastersOf(many);
    const oneJobsPerSec = median(oneSamples);
    const clusterJobsPerSec = median(clusterSamples);
    const result = {
      suite: 'cluster',
      jobs,
      functions: FUNCTIONS.length,
      concurrency: CONCURRENCY,
      rounds,
      oneRedisJobsPerSec: Math.round(oneJobsPerSec),
      clusterJobsPerSec: Math.round(clusterJobsPerSec),
      ratio: Number((clusterJobsPerSec / oneJobsPerSec).toFixed(3)),
      placement,
      samples: { oneRedisJobsPerSec: oneSamples.map(Math.round), clusterJobsPerSec: clusterSamples.map(Math.round) },
      machine: machine(),
    };
    const lines = [
      `${jobs.toLocaleString('en-US')} trivial jobs over ${FUNCTIONS.length} functions, one dispatcher (concurrency ${CONCURRENCY} per function), removeOnComplete, median of ${rounds} round(s)`,
      '',
      ...table(
        ['Redis', 'jobs/s', 'rounds'],
        [
          ['one redis-server', oneJobsPerSec, result.samples.oneRedisJobsPerSec.join(' ')],
          ['Redis Cluster, 3 masters', clusterJobsPerSec, result.samples.clusterJobsPerSec.join(' ')],
        ],
      ),
      '',
      `ratio cluster/one: ${result.ratio}`,
      `queues on the masters: ${Object.entries(placement)
        .map(([fn, node]) => `${fn} → ${node}`)
        .join(', ')}`,
      'All servers share this machine with the dispatcher: a cluster pays off where its masters have hosts of their own.',
    ];
    return { lines, result };
  } finally {
    await cluster.stop();
    await single.stop();
  }
}

/** Jobs/s from resuming the paused queues (jobs split over the functions) to the last result. */
async function throughput(target: RedisTarget, jobs: number, round: number): Promise<number> {
  const prefix = `bench-cluster-${round}`;
  const config = loadConfig({
    'redis.url': target.url,
    'redis.cluster': target.cluster,
    'redis.prefix': prefix,
    functionsDir: FUNCTIONS_DIR,
    'dispatcher.concurrency': CONCURRENCY,
    'runtime.photonsPerRuntime': CONCURRENCY,
    'log.level': 'warn',
  });
  const connection = bullConnection(target, 'worker');
  const queues = FUNCTIONS.map((fn) => new Queue(queueName(fn, target.cluster), { connection: copy(connection), prefix }));
  const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
  await dispatcher.start();
  const completed = (): number => dispatcher.stats().functions.reduce((sum, f) => sum + f.completed, 0);
  try {
    await Promise.all(queues.map((queue) => queue.add('warm', { i: -1 }, JOB_OPTIONS)));
    await until(() => completed() >= queues.length);
    await Promise.all(queues.map((queue) => queue.pause()));
    const each = Math.ceil(jobs / queues.length);
    for (const queue of queues) {
      for (let first = 0; first < each; first += 1_000) {
        const count = Math.min(1_000, each - first);
        await queue.addBulk(Array.from({ length: count }, (_, k) => ({ name: 'job', data: { i: first + k }, opts: JOB_OPTIONS })));
      }
    }
    const before = completed();
    const started = performance.now();
    await Promise.all(queues.map((queue) => queue.resume()));
    await until(() => completed() - before >= each * queues.length);
    return (each * queues.length) / ((performance.now() - started) / 1000);
  } finally {
    await dispatcher.close();
    for (const queue of queues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    if (connection instanceof Cluster) await connection.quit();
  }
}

function copy(connection: RedisOptions | Cluster): RedisOptions | Cluster {
  return connection instanceof Cluster ? connection : { ...connection };
}

/** Which master (host:port) serves each function's queue. */
async function mastersOf(target: RedisTarget): Promise<Record<string, string>> {
  const redis = connectRedis(target, 'worker') as Cluster;
  try {
    const ranges = await redis.cluster('SLOTS');
    const placement: Record<string, string> = {};
    for (const fn of FUNCTIONS) {
      const slot = await redis.cluster('KEYSLOT', `{${fn}}`);
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const master = range?.[2];
      placement[fn] = master ? `${master[0]}:${master[1]}` : 'unassigned';
    }
    return placement;
  } finally {
    await redis.quit();
  }
}

async function until(condition: () => boolean, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out waiting for jobs');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
