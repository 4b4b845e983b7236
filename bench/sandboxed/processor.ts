// The sandboxed processor file BullMQ loads in each child: the same function bundle a photon
// runtime runs, loaded once per child (as a lambda runtime loads it) and called per job.
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { JobContext, RuntimeServices } from '../../photon-worker/context';
import { FunctionCode, type ModuleInstance } from '../../photon-worker/photon';
import type { SandboxedResult } from '../paper-protocol';

interface BundleFile {
  name: string;
  file: string;
  code: string;
}

const bundle = JSON.parse(readFileSync(process.env.PHOTONS_BENCH_BUNDLE!, 'utf8')) as BundleFile;
const instance: ModuleInstance = new FunctionCode(bundle.name, bundle.file, bundle.code).instantiate(globalThis, console);
// Only a function that logs pays for loading pino.
const rootLogger = (): Logger => (require('pino') as typeof import('pino')).pino({ level: 'warn' }) as Logger;
const services = new RuntimeServices(
  bundle.name,
  rootLogger,
  (ctx) => rootLogger().child({ jobId: ctx.jobId, photonId: ctx.photonId }),
  () => undefined,
);
const runtime = `${process.pid}:${threadId}`;
let photonId = 1;

export default async function process_(job: Job): Promise<SandboxedResult> {
  const ctx = new JobContext(services, job.id ?? '', photonId++, job.attemptsMade + 1);
  try {
    return { runtime, value: await instance.handler(job.data, ctx) };
  } finally {
    ctx.release();
  }
}
