// The processor file of `photons bench io`'s BullMQ sandboxed processors: the same wait as
// bench/functions/io/wait.ts, in a worker thread of BullMQ's own per job.
import type { Job } from 'bullmq';

export default async function wait(job: Job<{ ms: number }>): Promise<{ waited: number }> {
  await new Promise((resolve) => setTimeout(resolve, job.data.ms));
  return { waited: job.data.ms };
}
