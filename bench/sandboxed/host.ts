// Child process entry: BullMQ's own sandboxed processors under measurement, a child process (or,
// with useWorkerThreads, a worker thread) per concurrent job, kept for reuse as BullMQ does.
import * as path from 'node:path';
import { Worker } from 'bullmq';
import { workerConnection } from '../../contract/redis';
import { serveHost } from '../paper-protocol';

const PROCESSOR = path.join(__dirname, 'processor.js');

serveHost(async (start) => {
  if (start.kind !== 'sandboxed') throw new Error('sandboxed/host runs sandboxed processors only');
  // The processor file reads the bundle's location from the environment its children inherit.
  process.env.PHOTONS_BENCH_BUNDLE = start.bundleFile;
  let completed = 0;
  let failed = 0;
  const worker = new Worker(start.fn, PROCESSOR, {
    connection: workerConnection(start.redisUrl),
    prefix: start.prefix,
    concurrency: start.concurrency,
    useWorkerThreads: start.useWorkerThreads,
  });
  worker.on('completed', () => completed++);
  worker.on('failed', () => failed++);
  worker.on('error', (err) => process.stderr.write(`sandboxed worker: ${err.message}\n`));
  await worker.waitUntilReady();
  return {
    // Cold starts are counted by the benchmark from the distinct children named in the results.
    stats: () => ({ coldStarts: 0, runtimeHeaps: [], completed, failed }),
    stop: () => worker.close(),
  };
});
