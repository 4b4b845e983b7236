// Benchmark of the producer path: items per second of a trivial function through `map` (one job
// per item, and 100 items per chunk job) against plain BullMQ (addBulk + a Worker with an inline
// processor), in the same process, on the same Redis.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { producerConnection, removeKeys, workerConnection } from '../contract/redis';
import { PhotonsClient } from '../producer/client';
import { cpuPerJob, readCpu, type CpuPerJob } from './cpu';
import { median } from './report';

export interface MapBenchOptions {
  /** Default PHOTONS_REDIS_URL or redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Items per measurement. Default 10000. */
  items?: number;
  /** Items per chunk job in the chunked measurement. Default 100. */
  chunkSize?: number;
  /** Jobs held at once, by the dispatcher per function and by the BullMQ worker. Default 256. */
  concurrency?: number;
  /** Measurements of each path, alternated; the medians are reported. Default 3. */
  rounds?: number;
}

export interface MapBenchResult {
  items: number;
  chunkSize: number;
  concurrency: number;
  /** map with chunkSize 1: one BullMQ job per item. */
  mapItemsPerSec: number;
  /** map with chunkSize `chunkSize`. */
  mapChunkedItemsPerSec: number;
  /** Plain BullMQ: addBulk, then a Worker whose processor returns the input. */
  bullmqJobsPerSec: number;
  /** mapItemsPerSec / bullmqJobsPerSec. */
  mapRatio: number;
  /** mapChunkedItemsPerSec / bullmqJobsPerSec. */
  chunkedRatio: number;
  rounds: number;
  /** CPU per item of each path (median of the rounds): this process's main thread, its other threads, redis-server. */
  cpuUsPerItem: { bullmq: CpuPerJob; map: CpuPerJob; mapChunked: CpuPerJob };
  /** Each round's rate, per path. */
  samples: { bullmqJobsPerSec: number[]; mapItemsPerSec: number[]; mapChunkedItemsPerSec: number[] };
}

const FUNCTIONS_DIR = path.resolve(__dirname, '../../bench/functions/map');

export async function benchMap(options: MapBenchOptions = {}): Promise<MapBenchResult> {
  const redisUrl = options.redisUrl ?? process.env.PHOTONS_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const items = options.items ?? 10_000;
  const chunkSize = options.chunkSize ?? 100;
  const concurrency = options.concurrency ?? 256;
  const rounds = options.rounds ?? 3;
  const prefix = `bench-map-${randomBytes(4).toString('hex')}`;
  const inputs = Array.from({ length: items }, (_, n) => ({ n }));
  // Each path runs once untimed first, so every measurement is of code the JIT has compiled: a run
  // of 10,000 chunked items lasts a few hundred milliseconds, and the first one in a process took
  // half as long again as the next ones (on both sides of the comparison alike).
  const warmUp = inputs.slice(0, Math.min(items, 2_000));
  try {
    const config = loadConfig(
      // A generous watchdog: on a loaded machine a runtime's first load can stall for seconds.
      {
        'redis.url': redisUrl,
        'redis.prefix': prefix,
        functionsDir: FUNCTIONS_DIR,
        'dispatcher.concurrency': concurrency,
        'runtime.watchdogMs': 60_000,
        'log.level': 'warn',
      },
      '',
    );
    const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
    await dispatcher.start();
    const client = new PhotonsClient({ redisUrl, prefix, maxInFlight: items });
    const info = new Redis(workerConnection(redisUrl));
    const samples: MapBenchResult['samples'] = { bullmqJobsPerSec: [], mapItemsPerSec: [], mapChunkedItemsPerSec: [] };
    const cpu: Record<keyof MapBenchResult['cpuUsPerItem'], CpuPerJob[]> = { bullmq: [], map: [], mapChunked: [] };
    /** The rate a path gives, and what CPU each side spent on it meanwhile. */
    const measured = async (path: keyof typeof cpu, run: () => Promise<number>): Promise<number> => {
      const before = await readCpu(info);
      const rate = await run();
      cpu[path].push(cpuPerJob(before, await readCpu(info), items));
      return rate;
    };
    try {
      await plainBullmq(redisUrl, prefix, warmUp, concurrency);
      await timeMap(client, warmUp, 1);
      await timeMap(client, warmUp, chunkSize);
      for (let round = 0; round < rounds; round++) {
        samples.bullmqJobsPerSec.push(await measured('bullmq', () => plainBullmq(redisUrl, prefix, inputs, concurrency)));
        samples.mapItemsPerSec.push(await measured('map', () => timeMap(client, inputs, 1)));
        samples.mapChunkedItemsPerSec.push(await measured('mapChunked', () => timeMap(client, inputs, chunkSize)));
      }
    } finally {
      info.disconnect();
      await client.close();
      await dispatcher.close();
    }
    const medianCpu = (rounds: CpuPerJob[]): CpuPerJob => ({
      mainUs: median(rounds.map((c) => c.mainUs)),
      threadsUs: median(rounds.map((c) => c.threadsUs)),
      redisUs: median(rounds.map((c) => c.redisUs)),
    });
    const bullmqJobsPerSec = median(samples.bullmqJobsPerSec);
    const mapItemsPerSec = median(samples.mapItemsPerSec);
    const mapChunkedItemsPerSec = median(samples.mapChunkedItemsPerSec);
    return {
      items,
      chunkSize,
      concurrency,
      mapItemsPerSec,
      mapChunkedItemsPerSec,
      bullmqJobsPerSec,
      mapRatio: round(mapItemsPerSec / bullmqJobsPerSec, 3),
      chunkedRatio: round(mapChunkedItemsPerSec / bullmqJobsPerSec, 3),
      rounds,
      cpuUsPerItem: { bullmq: medianCpu(cpu.bullmq), map: medianCpu(cpu.map), mapChunked: medianCpu(cpu.mapChunked) },
      samples,
    };
  } finally {
    await removeKeys(redisUrl, `${prefix}:*`);
  }
}

/** A printable table of the result. */
export function formatMapBench(r: MapBenchResult): string {
  const rows: Array<[string, number, string]> = [
    ['plain BullMQ (addBulk + Worker)', r.bullmqJobsPerSec, '1.00'],
    ['photons map, chunkSize 1', r.mapItemsPerSec, r.mapRatio.toFixed(2)],
    [`photons map, chunkSize ${r.chunkSize}`, r.mapChunkedItemsPerSec, r.chunkedRatio.toFixed(2)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    `map benchmark: ${r.items} items of a trivial function, concurrency ${r.concurrency}, median of ${r.rounds} alternated round(s) after an untimed one of each path`,
    `${'path'.padEnd(width)}  ${'items/s'.padStart(9)}  vs BullMQ  rounds`,
    ...rows.map(([name, rate, ratio], i) => {
      const each = [r.samples.bullmqJobsPerSec, r.samples.mapItemsPerSec, r.samples.mapChunkedItemsPerSec][i]!;
      return `${name.padEnd(width)}  ${String(Math.round(rate)).padStart(9)}  ${ratio.padStart(8)}  ${each.join(' ')}`;
    }),
    '',
    'CPU per item (µs, median of the rounds): main thread / other threads / redis-server (producer and dispatcher share this process)',
    ...rows.map(([name], i) => {
      const c = [r.cpuUsPerItem.bullmq, r.cpuUsPerItem.map, r.cpuUsPerItem.mapChunked][i]!;
      return `${name.padEnd(width)}  ${c.mainUs} / ${c.threadsUs} / ${c.redisUs}`;
    }),
  ].join('\n');
}

async function timeMap(client: PhotonsClient, inputs: unknown[], chunkSize: number): Promise<number> {
  const started = performance.now();
  const run = await client.map('noop', inputs, { chunkSize });
  const progress = await run.finished();
  if (progress.done !== inputs.length || progress.failed > 0) {
    throw new Error(`map benchmark run ${run.id}: ${progress.done} of ${inputs.length} done, ${progress.failed} failed`);
  }
  return round(inputs.length / ((performance.now() - started) / 1000), 0);
}

async function plainBullmq(redisUrl: string, prefix: string, inputs: unknown[], concurrency: number): Promise<number> {
  const name = 'bullmq-noop';
  const queue = new Queue(name, { connection: producerConnection(redisUrl), prefix });
  let completed = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const worker = new Worker(name, async (job) => job.data as unknown, { connection: workerConnection(redisUrl), prefix, concurrency, autorun: false });
  worker.on('completed', () => {
    if (++completed === inputs.length) resolveAll();
  });
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const started = performance.now();
    void worker.run();
    for (let start = 0; start < inputs.length; start += 1_000) {
      await queue.addBulk(inputs.slice(start, start + 1_000).map((data) => ({ name, data, opts: { removeOnComplete: true } })));
    }
    await all;
    return round(inputs.length / ((performance.now() - started) / 1000), 0);
  } finally {
    await worker.close();
    await queue.close();
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
