// `photons bench io`: the photon's home turf at default settings. N jobs (default 10,000) that each
// wait 2 s, enqueued one per input by plain BullMQ addBulk, through one `photons dispatcher` child
// process with no tuning at all, beside a plain BullMQ Worker with an inline processor at
// concurrency N and BullMQ sandboxed processors (worker threads) at concurrency 256: same Redis,
// same run. Also the same inputs as one `map` with chunkSize 100. Each time runs from the first
// addBulk to the last result.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../config';
import { readHeartbeats } from '../contract/fleet';
import { producerConnection, removeKeys, workerConnection } from '../contract/redis';
import { ensureRedis } from '../dispatcher/redis-server';
import { PhotonsClient } from '../producer/client';
import { machine, median, rssBytes, table, type SuiteOptions, type SuiteReport } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const PHOTONS_BIN = path.join(ROOT, 'bin', 'photons.js');
const FUNCTIONS_DIR = path.join(ROOT, 'bench', 'functions', 'io');
const SANDBOXED_PROCESSOR = path.join(__dirname, 'sandboxed', 'wait.js');
const WAIT_MS = 2_000;
const SANDBOXED_CONCURRENCY = 256;
const CHUNK_SIZE = 100;
const JOB_OPTIONS: JobsOptions = { removeOnComplete: { count: 100_000 }, removeOnFail: { count: 100_000 } };

export async function ioBench(options: SuiteOptions): Promise<SuiteReport> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('bench io starts `photons dispatcher` from dist/: run `npm run build` first');
  const logger = pino({ level: 'warn' });
  const base = loadConfig();
  const redis = await ensureRedis(base.redis, base.redis.autostart, logger);
  const jobs = options.quick ? 2_000 : 10_000;
  const prefix = `bench-io-${process.pid}-${Date.now().toString(36)}`;
  const inputs = Array.from({ length: jobs }, () => ({ ms: WAIT_MS }));
  // Alternated rounds, medians: on a shared machine one pair of runs moved the ratio by a fifth.
  const rounds = options.quick ? 1 : 3;
  try {
    const inline: Array<{ seconds: number; failed: number }> = [];
    const photons: Array<Awaited<ReturnType<typeof timeDispatcher>>> = [];
    for (let n = 0; n < rounds; n++) {
      inline.push(
        await timeWorker(redis.url, prefix, 'inline', inputs, async (job) => {
          await new Promise((resolve) => setTimeout(resolve, (job.data as { ms: number }).ms));
          return { waited: (job.data as { ms: number }).ms };
        }),
      );
      photons.push(await timeDispatcher(redis.url, prefix, inputs));
    }
    // Last: its 256 threads would weigh on the others' runs.
    const sandboxed = await timeWorker(redis.url, prefix, 'sandboxed', inputs, SANDBOXED_PROCESSOR);
    const photonSeconds = median(photons.map((p) => p.photonSeconds));
    const bullmqInlineSeconds = median(inline.map((i) => i.seconds));
    // The round that held the most photons at once measured the steady state best.
    const steadiest = photons.reduce((best, p) => (p.mostInFlight > best.mostInFlight ? p : best));
    const result = {
      suite: 'io',
      jobs,
      waitMs: WAIT_MS,
      rounds,
      photonSeconds,
      bullmqInlineSeconds,
      ratio: round(photonSeconds / bullmqInlineSeconds, 3),
      sandboxedSeconds: sandboxed.seconds,
      /** Jobs that failed rather than completed (BullMQ's own: a lock lost on a starved main thread). */
      bullmqInlineFailed: inline.reduce((sum, i) => sum + i.failed, 0),
      sandboxedFailed: sandboxed.failed,
      sandboxedConcurrency: SANDBOXED_CONCURRENCY,
      mapChunkedSeconds: median(photons.map((p) => p.mapChunkedSeconds)),
      chunkSize: CHUNK_SIZE,
      /** The highest of the rounds. */
      dispatcherPeakRssMB: Math.max(...photons.map((p) => p.peakRssMB)),
      heapPerPhotonBytes: steadiest.heapPerPhotonBytes,
      mostPhotonsInFlight: steadiest.mostInFlight,
      samples: {
        photonSeconds: photons.map((p) => p.photonSeconds),
        bullmqInlineSeconds: inline.map((i) => i.seconds),
        mapChunkedSeconds: photons.map((p) => p.mapChunkedSeconds),
        dispatcherPeakRssMB: photons.map((p) => p.peakRssMB),
      },
      targets: { ratio: 1.1, dispatcherPeakRssMB: 300 },
      machine: machine(),
    };
    const lines = [
      `${jobs.toLocaleString('en-US')} jobs that each wait ${WAIT_MS / 1000} s, enqueued by plain BullMQ addBulk, same Redis, same run; time from the first addBulk to the last result; median of ${rounds} alternated round(s) (sandboxed: one)`,
      '',
      ...table(
        ['consumer', 'settings', 'seconds'],
        [
          ['one photons dispatcher (child process)', 'defaults', `${result.photonSeconds} (${result.samples.photonSeconds.join(' ')})`],
          ['plain BullMQ Worker, inline processor', `concurrency ${jobs}`, `${result.bullmqInlineSeconds} (${result.samples.bullmqInlineSeconds.join(' ')})`],
          [
            'BullMQ sandboxed processors (worker threads)',
            `concurrency ${SANDBOXED_CONCURRENCY}`,
            `${result.sandboxedSeconds}${sandboxed.failed > 0 ? ` (${sandboxed.failed} failed)` : ''}`,
          ],
          [`photons map, chunkSize ${CHUNK_SIZE}, same dispatcher`, 'defaults', `${result.mapChunkedSeconds} (${result.samples.mapChunkedSeconds.join(' ')})`],
        ],
      ),
      '',
      `ratio photon/inline: ${result.ratio} (target <= 1.1: ${result.ratio <= 1.1 ? 'met' : 'MISSED'})`,
      `dispatcher peak RSS, highest of the rounds: ${result.dispatcherPeakRssMB} MB (target < 300: ${result.dispatcherPeakRssMB < 300 ? 'met' : 'MISSED'}); heap per photon ${result.heapPerPhotonBytes} bytes; most photons in flight ${result.mostPhotonsInFlight}`,
    ];
    return { lines, result };
  } finally {
    await removeKeys(redis.url, `${prefix}:*`);
    await redis.local?.stop();
  }
}

/** Seconds from the first addBulk to the last job answered, through a BullMQ Worker in this process; and how many failed. */
async function timeWorker(
  url: string,
  prefix: string,
  kind: 'inline' | 'sandboxed',
  inputs: unknown[],
  processor: string | ((job: { data: unknown }) => Promise<unknown>),
): Promise<{ seconds: number; failed: number }> {
  const name = `io-${kind}`;
  const queue = new Queue(name, { connection: producerConnection(url), prefix });
  const concurrency = kind === 'inline' ? inputs.length : SANDBOXED_CONCURRENCY;
  // BullMQ pipes each sandboxed thread's output into this process's stdout and stderr: a listener
  // of each kind per thread, which Node would call a leak from the eleventh on.
  if (kind === 'sandboxed') for (const stream of [process.stdout, process.stderr]) stream.setMaxListeners(concurrency + 10);
  const worker = new Worker(name, processor, { connection: workerConnection(url), prefix, concurrency, useWorkerThreads: kind === 'sandboxed' });
  let completed = 0;
  let failed = 0;
  worker.on('completed', () => completed++);
  worker.on('failed', () => failed++);
  // BullMQ reports each lost lock of a starved worker: the first of each message says enough.
  const seen = new Set<string>();
  worker.on('error', (err) => {
    const kind = err.message.replace(/\d+/g, 'N');
    if (seen.has(kind)) return;
    seen.add(kind);
    process.stderr.write(`${name} worker (each further one like it left out): ${err.message}\n`);
  });
  try {
    await worker.waitUntilReady();
    const started = performance.now();
    await enqueue(queue, inputs);
    await until(() => completed + failed >= inputs.length, `${name}: ${inputs.length} jobs`, 1_800_000);
    return { seconds: round((performance.now() - started) / 1000, 2), failed };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** The same jobs through a `photons dispatcher` child at default settings, then as one chunked map. */
async function timeDispatcher(url: string, prefix: string, inputs: unknown[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PHOTONS_')));
  const child = spawn(process.execPath, [PHOTONS_BIN, 'dispatcher'], {
    cwd: ROOT,
    env: {
      ...env,
      PHOTONS_REDIS_URL: url,
      PHOTONS_REDIS_PREFIX: prefix,
      PHOTONS_FUNCTIONS_DIR: FUNCTIONS_DIR,
      PHOTONS_REDIS_AUTOSTART: 'false',
      PHOTONS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  const fleet = new Redis(workerConnection(url));
  const queue = new Queue('wait', { connection: producerConnection(url), prefix });
  const client = new PhotonsClient({ redisUrl: url, prefix, maxInFlight: inputs.length });
  let peakRss = 0;
  let heapPerPhoton = 0;
  let mostInFlight = 0;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssBytes(child.pid!));
    } catch {
      // The child has exited.
    }
    void readHeartbeats(fleet, prefix).then((beats) => {
      for (const fn of beats.flatMap((b) => b.functions)) {
        // Heap per photon as measured when the most photons were in flight: the steady state, not a first reading.
        const measured = fn.runtimes.filter((r) => r.heapPerPhoton > 0);
        if (fn.photonsInFlight < mostInFlight || measured.length === 0) continue;
        mostInFlight = fn.photonsInFlight;
        heapPerPhoton = measured.reduce((sum, r) => sum + r.heapPerPhoton, 0) / measured.length;
      }
    });
  }, 100);
  try {
    await until(async () => (await readHeartbeats(fleet, prefix)).length > 0, 'the dispatcher to start', 60_000);
    const started = performance.now();
    await enqueue(queue, inputs);
    await until(async () => (await queue.getCompletedCount()) >= inputs.length, `dispatcher: ${inputs.length} jobs`);
    const photonSeconds = round((performance.now() - started) / 1000, 2);
    const mapStarted = performance.now();
    const progress = await (await client.map('wait', inputs, { chunkSize: CHUNK_SIZE })).finished();
    if (progress.done !== inputs.length) throw new Error(`bench io map: ${progress.done} of ${inputs.length} done, ${progress.failed} failed`);
    const mapChunkedSeconds = round((performance.now() - mapStarted) / 1000, 2);
    return { photonSeconds, mapChunkedSeconds, peakRssMB: Math.round(peakRss / 2 ** 20), heapPerPhotonBytes: Math.round(heapPerPhoton), mostInFlight };
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await exited;
    await client.close();
    await queue.obliterate({ force: true });
    await queue.close();
    fleet.disconnect();
  }
}

/** Plain BullMQ addBulk, one job per input, a thousand per call. */
async function enqueue(queue: Queue, inputs: unknown[]): Promise<void> {
  for (let first = 0; first < inputs.length; first += 1_000) {
    await queue.addBulk(inputs.slice(first, first + 1_000).map((data) => ({ name: 'job', data, opts: JOB_OPTIONS })));
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench io timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
